/// When the alternative ("turtle") limits switch themselves on and off, as Transmission's
/// `alt-speed-time-*` settings do: days of the week and a span of the day, written
/// `"mon-fri 09:00-17:30"`, `"sat,sun 00:00-24:00"` or `"daily 23:00-07:00"` (a span past
/// midnight belongs to the day it starts on). Pure: the caller says which day and minute it is.
public struct AltSpeedSchedule: Sendable, Equatable, CustomStringConvertible {
    /// 1 = Sunday … 7 = Saturday (the Gregorian calendar's `weekday`).
    public var days: Set<Int>
    /// Minutes after midnight; `end` may be below `begin` (the span crosses midnight).
    public var begin: Int
    public var end: Int

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    public init(days: Set<Int>, begin: Int, end: Int) {
        self.days = days
        self.begin = begin
        self.end = end
    }

    public init(parsing text: String) throws(Invalid) {
        let parts = text.lowercased().split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 else { throw Invalid(description: "'\(text)': expected DAYS HH:MM-HH:MM, e.g. \"mon-fri 09:00-17:00\"") }
        days = try Self.days(String(parts[0]))
        let times = parts[1].split(separator: "-")
        guard times.count == 2, let from = Self.minute(times[0]), let to = Self.minute(times[1]) else {
            throw Invalid(description: "'\(parts[1])': expected HH:MM-HH:MM, e.g. 09:00-17:00")
        }
        guard from != to else { throw Invalid(description: "'\(parts[1])': the span is empty") }
        begin = from
        end = to
    }

    private static func days(_ text: String) throws(Invalid) -> Set<Int> {
        if text == "daily" || text == "every" || text == "all" { return Set(1...7) }
        if text == "weekdays" { return Set(2...6) }
        if text == "weekends" { return [1, 7] }
        var out: Set<Int> = []
        for item in text.split(separator: ",") {
            let ends = item.split(separator: "-").map(String.init)
            guard (1...2).contains(ends.count), let first = dayNames.firstIndex(of: ends[0]),
                  let last = dayNames.firstIndex(of: ends.last!) else {
                throw Invalid(description: "'\(item)': days are sun, mon, tue, wed, thu, fri, sat, ranges like mon-fri, or daily")
            }
            var day = first
            while true {
                out.insert(day + 1)
                if day == last { break }
                day = (day + 1) % 7
            }
        }
        return out
    }

    private static func minute(_ text: Substring) -> Int? {
        let fields = text.split(separator: ":")
        guard fields.count == 2, let hours = Int(fields[0]), let minutes = Int(fields[1]), (0...24).contains(hours),
              (0...59).contains(minutes), hours * 60 + minutes <= 24 * 60 else { return nil }
        return hours * 60 + minutes
    }

    /// Whether the alternative limits are on at `minute` (0…1439) of `weekday`.
    public func isActive(weekday: Int, minute: Int) -> Bool {
        if begin < end { return days.contains(weekday) && minute >= begin && minute < end }
        // Past midnight: the evening of a listed day, or the early morning after one.
        let yesterday = weekday == 1 ? 7 : weekday - 1
        return (days.contains(weekday) && minute >= begin) || (days.contains(yesterday) && minute < end)
    }

    public var description: String {
        let names = (1...7).filter(days.contains).map { Self.dayNames[$0 - 1] }.joined(separator: ",")
        func time(_ minute: Int) -> String { "\(minute / 60 < 10 ? "0" : "")\(minute / 60):\(minute % 60 < 10 ? "0" : "")\(minute % 60)" }
        return "\(days.count == 7 ? "daily" : names) \(time(begin))-\(time(end))"
    }
}

/// Turns the schedule's state into switches: on at the span's start, off at its end, nothing
/// in between, so the user's own `t` holds until the next boundary (as in Transmission).
public struct AltSpeedScheduler: Sendable {
    public let schedule: AltSpeedSchedule
    private var last: Bool?

    public init(schedule: AltSpeedSchedule) { self.schedule = schedule }

    /// The switch to make now, if any: the first call sets the state the schedule says.
    public mutating func tick(weekday: Int, minute: Int) -> Bool? {
        let active = schedule.isActive(weekday: weekday, minute: minute)
        defer { last = active }
        return active == last ? nil : active
    }
}
