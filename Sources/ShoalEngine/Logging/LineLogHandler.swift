import Foundation
import Logging
import ShoalCore

/// One line per message: time, level, message, then `key=value` metadata, sorted. Every string
/// is made safe for a terminal first: torrent names, client names and tracker replies come from
/// outside, and a log is read with `tail` and `less`.
public struct LineLogHandler: LogHandler {
    let write: @Sendable (String) -> Void
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(level: Logger.Level, write: @escaping @Sendable (String) -> Void) {
        self.logLevel = level
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        write(Self.format(time: Date(), level: event.level, message: "\(event.message)", metadata: all))
    }

    public static func format(time: Date, level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        var line = timestamp(time) + " " + level.rawValue + " " + TerminalText.printable(message)
        for key in metadata.keys.sorted() {
            line += " " + TerminalText.printable(key) + "=" + quoted(TerminalText.printable("\(metadata[key]!)"))
        }
        return line
    }

    /// A value with spaces, quotes or an `=` is quoted, so a line splits back into its fields.
    public static func quoted(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// UTC with milliseconds (ISO 8601), the same whatever the machine's zone.
    public static func timestamp(_ time: Date) -> String {
        var seconds = time_t(time.timeIntervalSince1970)
        let millis = Int((time.timeIntervalSince1970 - Double(seconds)) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, millis)
    }
}
