/// A disk problem, with the file it concerns; shown to the user as the torrent's error.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
