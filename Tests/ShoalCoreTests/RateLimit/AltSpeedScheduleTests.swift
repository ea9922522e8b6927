import Testing
@testable import ShoalCore

/// The turtle schedule run minute by minute through simulated weeks: it switches at the span's
/// edges and nowhere else, spans past midnight belong to the day they start, and a manual
/// switch in between is not undone until the next edge.
@Suite("Alternative speed schedule")
struct AltSpeedScheduleTests {
    /// Every switch over `weeks` weeks, as (weekday, minute, on), starting Sunday 00:00.
    static func switches(_ text: String, weeks: Int = 2) throws -> [(Int, Int, Bool)] {
        var scheduler = AltSpeedScheduler(schedule: try AltSpeedSchedule(parsing: text))
        var out: [(Int, Int, Bool)] = []
        for step in 0..<(weeks * 7 * 1440) {
            let weekday = step / 1440 % 7 + 1, minute = step % 1440
            if let on = scheduler.tick(weekday: weekday, minute: minute), step > 0 { out.append((weekday, minute, on)) }
        }
        return out
    }

    @Test func weekdaysOfficeHours() throws {
        let found = try Self.switches("mon-fri 09:00-17:30")
        #expect(found.count == 20, "on and off five days a week for two weeks")
        #expect(found.prefix(2).map { "\($0.0) \($0.1) \($0.2)" } == ["2 540 true", "2 1050 false"])
        #expect(found.allSatisfy { ($0.2 && $0.1 == 540) || (!$0.2 && $0.1 == 1050) } && Set(found.map(\.0)) == [2, 3, 4, 5, 6])
    }

    @Test func spanPastMidnightBelongsToItsFirstDay() throws {
        let schedule = try AltSpeedSchedule(parsing: "sat 22:00-02:00")
        #expect(schedule.isActive(weekday: 7, minute: 22 * 60) && schedule.isActive(weekday: 1, minute: 119))
        #expect(!schedule.isActive(weekday: 1, minute: 120) && !schedule.isActive(weekday: 1, minute: 22 * 60)
                && !schedule.isActive(weekday: 2, minute: 60))
        let nightly = try Self.switches("daily 23:00-07:00")
        #expect(nightly.count == 28 && nightly.allSatisfy { $0.1 == ($0.2 ? 1380 : 420) })
        #expect(try AltSpeedSchedule(parsing: "sun,wed-fri 00:00-24:00").days == [1, 4, 5, 6])
        #expect(try AltSpeedSchedule(parsing: "fri-mon 10:00-11:00").days == [6, 7, 1, 2], "a range may wrap the week")
        #expect(try AltSpeedSchedule(parsing: "weekends 08:05-09:00").description == "sun,sat 08:05-09:00")
    }

    /// The user turns the turtle off in the middle of a span: the scheduler says nothing until
    /// the span ends (and then "off", which changes nothing) and the next one begins.
    @Test func manualSwitchHoldsUntilTheNextEdge() throws {
        var scheduler = AltSpeedScheduler(schedule: try AltSpeedSchedule(parsing: "daily 09:00-10:00"))
        #expect(scheduler.tick(weekday: 2, minute: 8 * 60) == false, "the first tick says where we are")
        #expect(scheduler.tick(weekday: 2, minute: 9 * 60) == true)
        var turtle = true
        turtle = false  // the user's t at 09:15
        for minute in (9 * 60 + 16)..<(10 * 60) { if let on = scheduler.tick(weekday: 2, minute: minute) { turtle = on } }
        #expect(turtle == false, "kept off through the span")
        #expect(scheduler.tick(weekday: 2, minute: 10 * 60) == false)
    }

    @Test(arguments: ["", "mon", "mon 9-17", "moon 09:00-10:00", "mon 25:00-26:00", "mon 09:00-09:00", "mon 09:60-10:00"])
    func badSchedulesAreRefused(text: String) {
        #expect(throws: AltSpeedSchedule.Invalid.self) { try AltSpeedSchedule(parsing: text) }
    }
}
