/// How many terminal columns a character takes: 2 for East Asian wide and emoji, 0 for
/// combining marks, 1 otherwise (the common cases of wcwidth, without the C library).
enum DisplayWidth {
    static func of(_ scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        // Fast paths for what screens are mostly made of: Latin text, arrows, box drawing,
        // blocks and braille. None of these ranges holds a combining or wide character.
        if value < 0x300 { return value == 0 ? 0 : 1 }
        if (0x2190...0x25FF).contains(value) || (0x2800...0x28FF).contains(value) { return 1 }
        if value == 0 || scalar.properties.generalCategory == .nonspacingMark || scalar.properties.generalCategory == .enclosingMark {
            return 0
        }
        switch value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
            0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F,
            0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }

    static func of(_ text: String) -> Int { text.unicodeScalars.reduce(0) { $0 + of($1) } }
}
