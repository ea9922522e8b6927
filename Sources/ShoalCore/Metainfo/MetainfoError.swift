/// Why a .torrent was rejected: one sentence naming the problem and the byte offset it is at.
public struct MetainfoError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public let offset: Int?

    public init(_ message: String, at offset: Int?) {
        self.message = message
        self.offset = offset
    }

    public init(_ error: BencodeError) {
        self.message = "malformed bencode: " + error.description
        self.offset = error.offset
    }

    public var description: String {
        if let offset, !message.contains(" at byte ") { return "\(message) (at byte \(offset))" }
        return message
    }
}
