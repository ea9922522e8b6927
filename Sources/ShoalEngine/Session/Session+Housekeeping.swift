import Foundation
import ShoalCore

extension Session {
    /// The session's slow clock: every 5 s the turtle schedule (in local time; the user's own
    /// switch holds until the next edge, see `AltSpeedScheduler`) and the queue (see `Session+Queue`).
    func housekeepingLoop() async {
        guard config.altSpeedSchedule != nil || queueing else { return }
        let stop = scheduleStop
        let schedule = config.altSpeedSchedule
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for await _ in stop {} }
            group.addTask {
                var scheduler = schedule.map(AltSpeedScheduler.init)
                repeat {
                    if scheduler != nil {
                        let now = Calendar.current.dateComponents([.weekday, .hour, .minute], from: Date())
                        let minute = (now.hour ?? 0) * 60 + (now.minute ?? 0)
                        if let on = scheduler?.tick(weekday: now.weekday ?? 1, minute: minute) { await self.scheduledAltSpeed(on) }
                    }
                    await self.enforceQueue(now: .now)
                } while (try? await Task.sleep(for: .seconds(5))) != nil
            }
            await group.next()
            group.cancelAll()
        }
    }

    private func scheduledAltSpeed(_ on: Bool) async {
        guard on != altSpeed.enabled, let schedule = config.altSpeedSchedule else { return }
        logger.info(on ? "alternative limits on, by the schedule" : "alternative limits off, by the schedule",
                    metadata: ["schedule": "\(schedule)"])
        await setAltSpeed(enabled: on)
    }
}
