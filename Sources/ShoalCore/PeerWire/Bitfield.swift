/// One bit per piece, high bit of the first byte first (the peer wire's `bitfield` layout).
public struct Bitfield: Sendable, Hashable {
    public let count: Int
    public private(set) var bytes: [UInt8]
    public private(set) var setCount: Int

    public init(count: Int, allSet: Bool = false) {
        self.count = count
        self.bytes = [UInt8](repeating: 0, count: (count + 7) / 8)
        self.setCount = 0
        if allSet { for index in 0..<count { set(index) } }
    }

    /// Bytes from the wire: must be exactly `(count + 7) / 8` long with the spare bits clear.
    public init?(bytes: [UInt8], count: Int) {
        guard bytes.count == (count + 7) / 8 else { return nil }
        if count % 8 != 0, let last = bytes.last, last & (0xFF >> UInt8(count % 8)) != 0 { return nil }
        self.count = count
        self.bytes = bytes
        self.setCount = bytes.reduce(0) { $0 + $1.nonzeroBitCount }
    }

    public subscript(index: Int) -> Bool {
        bytes[index >> 3] & (0x80 >> UInt8(index & 7)) != 0
    }

    public subscript(piece: PieceIndex) -> Bool { self[piece.value] }

    public mutating func set(_ index: Int) {
        guard !self[index] else { return }
        bytes[index >> 3] |= 0x80 >> UInt8(index & 7)
        setCount += 1
    }

    public mutating func clear(_ index: Int) {
        guard self[index] else { return }
        bytes[index >> 3] &= ~(0x80 >> UInt8(index & 7))
        setCount -= 1
    }

    public var isComplete: Bool { setCount == count }
    public var isEmpty: Bool { setCount == 0 }

    public var setIndices: [Int] { (0..<count).filter { self[$0] } }

    /// True if `other` has a piece this one lacks.
    public func lacksAny(of other: Bitfield) -> Bool {
        for index in 0..<bytes.count where other.bytes[index] & ~bytes[index] != 0 { return true }
        return false
    }
}
