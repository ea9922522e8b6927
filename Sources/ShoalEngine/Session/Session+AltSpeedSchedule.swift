import Foundation
import ShoalCore

extension Session {
    /// Switches the alternative limits at the schedule's edges, in local time, looking every
    /// 15 s; the user's own switch holds until the next edge (see `AltSpeedScheduler`).
    func altSpeedScheduleLoop() async {
        guard let schedule = config.altSpeedSchedule else { return }
        let stop = scheduleStop
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for await _ in stop {} }
            group.addTask {
                var scheduler = AltSpeedScheduler(schedule: schedule)
                repeat {
                    let now = Calendar.current.dateComponents([.weekday, .hour, .minute], from: Date())
                    let minute = (now.hour ?? 0) * 60 + (now.minute ?? 0)
                    if let on = scheduler.tick(weekday: now.weekday ?? 1, minute: minute) { await self.scheduledAltSpeed(on, schedule) }
                } while (try? await Task.sleep(for: .seconds(15))) != nil
            }
            await group.next()
            group.cancelAll()
        }
    }

    private func scheduledAltSpeed(_ on: Bool, _ schedule: AltSpeedSchedule) async {
        guard on != altSpeed.enabled else { return }
        logger.info(on ? "alternative limits on, by the schedule" : "alternative limits off, by the schedule",
                    metadata: ["schedule": "\(schedule)"])
        await setAltSpeed(enabled: on)
    }
}
