// Maria's shift at Harbor Kitchen through ProoflineKit's view models — the same scripted
// shift as the Kotlin tests (android/, bindings/tests/kotlin) — against the real core and a
// real `proofline-server --demo` that scripts/test-ios starts on the host's loopback (a
// chroot shares the network namespace) and passes through the environment:
//   PROOFLINE_SERVER_URL   http://127.0.0.1:PORT
//   PROOFLINE_CODE         Maria Lopez's one-time enrollment code (staff)
//   PROOFLINE_LEAD_CODE    Dana Kim's (lead)
//   PROOFLINE_ADMIN_TOKEN  the server's admin token (to read the server's statuses)
//   PROOFLINE_PHOTO        the 12 MP fixture forest-4032x3024-orient6.jpg
//
// Time: the shift happens at a fixed instant (Wed 9 Dec 2026, 07:10 in New York: the opening
// checks are due at 07:00); enrolling and syncing use the real clock, as a phone does (the
// server measures the phone's clock offset from it).

import Foundation
import XCTest

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@testable import ProoflineKit

private func instant(_ text: String) -> Date {
    guard let date = ISO8601DateFormatter().date(from: text) else {
        fatalError("not an ISO 8601 instant: \(text)")
    }
    return date
}

struct MissingEnvironment: Error, CustomStringConvertible {
    let name: String
    var description: String { "\(name) is not set: run this test through scripts/test-ios" }
}

/// A setting scripts/test-ios passes; the test fails (never skips) without it.
private func env(_ name: String) throws -> String {
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
        throw MissingEnvironment(name: name)
    }
    return value
}

/// The test's clock: a fixed instant during the shift, the real clock to enroll and sync.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var fixed: Date?
    func fix(_ date: Date?) {
        lock.lock()
        fixed = date
        lock.unlock()
    }
    var clock: Clock {
        { [self] in
            lock.lock()
            defer { lock.unlock() }
            return fixed ?? Date()
        }
    }
}

/// `GET` an admin route of the server; the body as text.
private func adminGet(_ url: String, token: String) throws -> String {
    var request = URLRequest(url: URL(string: url)!)
    request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
    request.timeoutInterval = 30
    final class Answer: @unchecked Sendable {
        var data: Data?
        var response: URLResponse?
        var error: Error?
    }
    let answer = Answer()
    let done = DispatchSemaphore(value: 0)
    URLSession.shared.dataTask(with: request) { data, response, error in
        (answer.data, answer.response, answer.error) = (data, response, error)
        done.signal()
    }.resume()
    done.wait()
    if let error = answer.error { throw error }
    let status = (answer.response as? HTTPURLResponse)?.statusCode
    let body = String(decoding: answer.data ?? Data(), as: UTF8.self)
    XCTAssertEqual(status, 200, "GET \(url): \(body)")
    return body
}

final class ShiftTests: XCTestCase {
    let shift = instant("2026-12-09T12:10:00Z")  // Wed 9 Dec 2026, 07:10 America/New_York
    let locale = Locale(identifier: "en_GB")

    @MainActor
    func testMariasShiftAndDanasReview() async throws {
        let server = try env("PROOFLINE_SERVER_URL")
        let code = try env("PROOFLINE_CODE")
        let leadCode = try env("PROOFLINE_LEAD_CODE")
        let adminToken = try env("PROOFLINE_ADMIN_TOKEN")
        let photo = try Data(contentsOf: URL(fileURLWithPath: try env("PROOFLINE_PHOTO")))
        let tmp = FileManager.default.temporaryDirectory
            .appendingPathComponent("proofline-ios-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let time = TestClock()
        let keychain = MemorySecretStore()

        // --- Enroll ----------------------------------------------------------------------
        let dir = tmp.appendingPathComponent("maria-phone").path
        let app = AppModel(dir: dir, secrets: keychain, clock: time.clock)
        await app.start()
        XCTAssertEqual(app.phase, .enroll, "an empty folder asks to enroll")
        XCTAssertFalse(app.enroll.canJoin, "no code yet")
        // No server at that address: Offline, and nothing is set up.
        app.enroll.server = "http://127.0.0.1:9"
        app.enroll.code = code
        await app.join()
        XCTAssertEqual(app.phase, .enroll)
        XCTAssertEqual(app.enroll.error?.advice, .retryLater, "\(String(describing: app.enroll.error))")
        XCTAssertEqual(app.enroll.error?.isOffline, true)

        app.enroll.server = server
        app.enroll.scanned("  AAAA-BBBB-CCCC \n")  // a scanned code that the server refuses
        XCTAssertEqual(app.enroll.code, "AAAA-BBBB-CCCC")
        XCTAssertTrue(app.enroll.canJoin)
        await app.join()
        XCTAssertEqual(app.phase, .enroll)
        let refused = try XCTUnwrap(app.enroll.error)
        XCTAssertEqual(refused.advice, .enrollAgain)
        XCTAssertTrue(refused.message.contains("enrollment code"), refused.message)

        // The QR code a supervisor shows: server and code (case does not matter).
        app.enroll.server = ""
        app.enroll.scanned("proofline://enroll?server=\(server)&code=\(code.lowercased())")
        XCTAssertEqual(app.enroll.server, server)
        XCTAssertEqual(app.enroll.code, code)
        app.enroll.deviceName = "Maria's phone"
        await app.join()
        XCTAssertNil(app.enroll.error?.message)
        XCTAssertEqual(app.phase, .ready)
        XCTAssertFalse(app.showsReview, "Maria is staff: no Review tab")

        // Every launch reopens the folder.
        let relaunched = AppModel(dir: dir, secrets: keychain, clock: time.clock)
        await relaunched.start()
        XCTAssertEqual(relaunched.phase, .ready)
        let session = try XCTUnwrap(relaunched.session)
        XCTAssertEqual(session.me?.name, "Maria Lopez")
        XCTAssertEqual(session.org.sites.first?.timeZone, "America/New_York")

        // --- Attention / Today at 07:10 ----------------------------------------------------
        time.fix(shift)
        let attention = AttentionViewModel(session: session, locale: locale)
        var changes = 0
        attention.onChange = { changes += 1 }
        await attention.load()
        XCTAssertGreaterThan(changes, 0, "the UI hears about the new state")
        XCTAssertNil(attention.error)
        XCTAssertFalse(attention.isAllOnTrack)
        let first = try XCTUnwrap(attention.rows.first)
        XCTAssertEqual(first.item.kind, .dueNow, first.message)
        XCTAssertEqual(first.kindText, "Due now")
        XCTAssertTrue(first.message.contains("Opening checks"), first.message)
        XCTAssertEqual(first.localDue, "07:00", "due time in the site's zone")
        XCTAssertEqual(first.dueText, "due 10 min ago")
        XCTAssertEqual(first.spoken, "Due now. \(first.message). due 10 min ago")
        let shiftNow = shift
        let today = try await session.run { try $0.today(now: shiftNow) }
        let openingItem = try XCTUnwrap(today.first { $0.routineKey == "opening-checks" })
        let opening = (id: openingItem.occurrence.id, localDue: openingItem.localDue)
        XCTAssertEqual(first.occurrence, opening.id)
        let fridge = today.filter { $0.routineKey == "fridge-temps" }.map { (id: $0.occurrence.id, localDue: $0.localDue) }
        XCTAssertEqual(
            fridge.map { String($0.localDue.dropFirst(11).prefix(5)) }, ["06:00", "10:00", "14:00", "18:00", "22:00"])
        // "Later today": my other checks, not those already in the feed.
        XCTAssertFalse(attention.agenda.contains { $0.id == opening.id })
        let tenAmRow = try XCTUnwrap(attention.agenda.first { $0.id == fridge[1].id })
        XCTAssertEqual(tenAmRow.localDue, "10:00")
        XCTAssertEqual(tenAmRow.statusText, "due in 2 h 50 min")

        // The phone's zone never matters: the same instant shown in another site zone.
        XCTAssertEqual(SiteTime(zone: "Europe/Lisbon", locale: locale).time(first.item.due!), "12:00")

        // --- Check: opening checks, with the photo ------------------------------------------
        let check = CheckViewModel(session: session, occurrence: opening.id, locale: locale)
        await check.load()
        XCTAssertEqual(check.title, "Opening checks")
        XCTAssertEqual(check.steps.map(\.id), ["handwash", "sanitizer", "line-photo"])
        XCTAssertEqual(check.steps.map(\.requirement.kind), [.check, .check, .photo])
        XCTAssertTrue(check.windowText.hasPrefix("Due 07:00"), check.windowText)
        // The core is asked (`checkProof`, recording nothing) after loading and after every
        // change; "Complete check" follows its answer.
        await check.proofChecked()
        XCTAssertFalse(check.canSubmit, "nothing entered yet")
        XCTAssertNotNil(check.steps[0].message, "the core names the unanswered steps")
        XCTAssertEqual(check.steps[0].problem, .unanswered)
        check.toggle("handwash")
        check.setChecked("sanitizer", true)
        await check.proofChecked()
        XCTAssertFalse(check.canSubmit, "the photo is still missing")
        XCTAssertEqual(check.problems?.map(\.step), ["line-photo"])
        XCTAssertNil(check.steps[0].message)
        XCTAssertNotNil(check.steps[2].message)

        let added = await check.addPhoto(photo, step: "line-photo")
        let taken = try XCTUnwrap(added, "\(String(describing: check.error))")
        XCTAssertEqual([taken.width, taken.height], [1200, 1600], "upright, 1600 px")
        XCTAssertEqual([taken.thumbWidth, taken.thumbHeight], [240, 320])
        XCTAssertEqual(Array(try XCTUnwrap(check.thumbnails[taken.sha256]).prefix(2)), [0xFF, 0xD8])
        // "Retake" replaces the photo (same bytes here, so the same hash).
        let replaced = await check.addPhoto(photo, step: "line-photo", replacing: 0)
        let retaken = try XCTUnwrap(replaced)
        XCTAssertEqual(check.steps[2].photos.map(\.sha256), [retaken.sha256])
        await check.proofChecked()
        XCTAssertEqual(check.problems, [])
        XCTAssertNil(check.steps[2].message)
        XCTAssertTrue(check.canSubmit)
        check.note = "all good"
        let submitted = await check.submit()
        XCTAssertTrue(submitted, "\(String(describing: check.error))")
        XCTAssertEqual(check.status, .doneOnTime)
        XCTAssertEqual(check.statusText, "Done on time")
        XCTAssertFalse(check.isOpenForCompletion)
        XCTAssertFalse(check.canSubmit)
        XCTAssertEqual(check.completions.map(\.photos), [[taken.sha256]])
        XCTAssertEqual(check.completions.first?.record.byName, "Maria Lopez")

        await attention.load()
        XCTAssertFalse(attention.rows.contains { $0.occurrence == opening.id })

        // --- Check: the 06:00 fridge reading, late and out of range --------------------------
        let sixAm = try XCTUnwrap(fridge.first)
        let fridgeCheck = CheckViewModel(session: session, occurrence: sixAm.id, locale: locale)
        await fridgeCheck.load()
        XCTAssertEqual(fridgeCheck.steps.map(\.id), ["walk-in", "reach-in", "corrective-action"])
        let walkIn = fridgeCheck.steps[0].requirement
        XCTAssertEqual(walkIn.unit, "°C")
        XCTAssertEqual([walkIn.min, walkIn.max], [1, 5])
        XCTAssertEqual(fridgeCheck.steps[0].rangeText, "Allowed: 1–5 °C")
        // The core's sentence for the walk-in reading, exactly as `checkProof` words it.
        let outOfRange = "Walk-in cooler: 7.5 °C is outside 1–5 °C; add a corrective action"
        fridgeCheck.setReading("walk-in", "7,5")
        await fridgeCheck.proofChecked()
        XCTAssertFalse(fridgeCheck.canSubmit, "the reach-in reading is still empty")
        XCTAssertEqual(fridgeCheck.steps[1].problem, .unanswered)
        XCTAssertEqual(fridgeCheck.steps[0].message, outOfRange, "before any submit")
        XCTAssertTrue(fridgeCheck.steps[0].isOutOfRange)
        XCTAssertTrue(fridgeCheck.steps[0].showsCorrectivePrompt, "Out of range — what did you do?")
        fridgeCheck.setReading("reach-in", "4")
        await fridgeCheck.proofChecked()

        // Before any submit: out of range with no corrective action keeps "Complete check"
        // disabled, with the core's sentence on the walk-in step and the prompt open there.
        XCTAssertFalse(fridgeCheck.canSubmit, "out of range, no corrective action")
        XCTAssertEqual(fridgeCheck.problems?.map(\.step), ["walk-in"])
        XCTAssertEqual(fridgeCheck.steps[0].message, outOfRange)
        XCTAssertNil(fridgeCheck.steps[1].message)
        XCTAssertNil(fridgeCheck.steps[2].message)
        XCTAssertTrue(fridgeCheck.steps[0].showsCorrectivePrompt, "Out of range — what did you do?")
        XCTAssertFalse(fridgeCheck.steps[1].showsCorrectivePrompt)
        XCTAssertNil(fridgeCheck.error, "nothing submitted yet")
        XCTAssertNil(fridgeCheck.checkError)

        // `complete` still refuses on its own (the fallback if the check changed
        // underneath): its sentence verbatim, nothing recorded, the steps as the core says.
        let refusedFridge = await fridgeCheck.submit()
        XCTAssertFalse(refusedFridge)
        let proofError = try XCTUnwrap(fridgeCheck.error)
        XCTAssertEqual(proofError.advice, .fixInput)
        XCTAssertTrue(proofError.message.hasPrefix(outOfRange), proofError.message)
        XCTAssertEqual(fridgeCheck.steps[0].message, outOfRange)
        XCTAssertNil(fridgeCheck.steps[1].message)
        XCTAssertEqual(fridgeCheck.status, .missed, "nothing was recorded")
        XCTAssertFalse(fridgeCheck.canSubmit)

        // The corrective action is what the core asked for: "Complete check" enabled.
        fridgeCheck.setCorrectiveAction("walk-in", "moved stock, called maintenance")
        await fridgeCheck.proofChecked()
        XCTAssertEqual(fridgeCheck.problems, [])
        XCTAssertNil(fridgeCheck.steps[0].message)
        XCTAssertTrue(fridgeCheck.steps[0].showsCorrectivePrompt, "stays open while it holds an answer")
        XCTAssertTrue(fridgeCheck.canSubmit)
        let lateDone = await fridgeCheck.submit()
        XCTAssertTrue(lateDone, "\(String(describing: fridgeCheck.error))")
        XCTAssertEqual(fridgeCheck.status, .doneLate)

        // 08:30: today's checks are done; what is left are yesterday's misses escalated to
        // Maria. Acknowledging one silences it but keeps it in the feed (only a completion
        // or an excuse ends the chain).
        time.fix(instant("2026-12-09T13:30:00Z"))
        await attention.load()
        XCTAssertFalse(attention.rows.contains { $0.occurrence == opening.id || $0.occurrence == sixAm.id })
        let escalated = try XCTUnwrap(attention.rows.first { $0.escalationToAcknowledge != nil })
        XCTAssertEqual(escalated.kindText, "Escalation", escalated.message)
        await attention.acknowledge(try XCTUnwrap(escalated.escalationToAcknowledge))
        XCTAssertNil(attention.error?.message)
        let acknowledged = try XCTUnwrap(attention.rows.first { $0.id == escalated.id })
        XCTAssertNil(acknowledged.escalationToAcknowledge)

        // Before the routines' first checks (1 Jan 2026, 05:00 in New York) nothing needs
        // Maria: the empty state.
        time.fix(instant("2026-01-01T10:00:00Z"))
        await attention.load()
        XCTAssertTrue(attention.isAllOnTrack, "\(attention.rows.map(\.message))")
        XCTAssertEqual(attention.emptyText, "All checks on track")
        time.fix(shift)

        // --- Sync status, offline, then sync -----------------------------------------------
        let sync = SyncViewModel(session: session, locale: locale)
        await sync.load()
        XCTAssertEqual(sync.rows.map(\.label), ["Waiting to sync", "Photos waiting", "Last synced"])
        XCTAssertEqual(sync.rows.map(\.value).prefix(2), ["3", "1"], "two completions and an acknowledgement")
        XCTAssertNotEqual(sync.rows[2].value, "Never", "enrolling synced once")
        XCTAssertTrue(sync.hasPending)

        let coordinator = SyncCoordinator(session: session, push: PushRegistration(session: session, store: keychain))
        var scheduled: [LocalNotification]?
        coordinator.scheduleReminders = { scheduled = $0 }
        await coordinator.pathChanged(isOnline: false)
        XCTAssertTrue(coordinator.showsOfflineBanner)
        XCTAssertEqual(
            coordinator.offlineText,
            "Offline — changes are saved on this phone and sync when you're back online")

        time.fix(nil)  // the real clock: the server measures the offset
        await coordinator.pathChanged(isOnline: true)  // the path is back: it syncs
        let report = try XCTUnwrap(coordinator.lastReport, "\(String(describing: coordinator.lastError))")
        XCTAssertTrue(report.complete, "\(report.errors)")
        XCTAssertEqual(report.accepted, 3)
        XCTAssertEqual(report.uploadedBlobs, 2, "the photo and its thumbnail")
        XCTAssertFalse(coordinator.showsOfflineBanner)
        // Planned on the real clock, so how many depends on the day (the demo's Maria is on
        // leave the first week of December: none then); that they were planned does not.
        XCTAssertNotNil(scheduled, "reminders rescheduled after the sync")
        time.fix(shift)
        let onShift = try await ReminderPlanner.plan(session)
        XCTAssertFalse(onShift.isEmpty, "Maria's reminders on her shift")
        time.fix(nil)

        await sync.load()
        XCTAssertEqual(sync.rows.map(\.value), ["0", "0", "just now"])
        XCTAssertNil(sync.clockWarning, "the phone's clock is right")
        XCTAssertTrue(sync.rejected.isEmpty)
        XCTAssertFalse(sync.hasPending)
        let again = await sync.sync()
        XCTAssertEqual(again?.pushed, 0, "nothing left to send")
        XCTAssertEqual(Copy.clockSkew(minutes: 7), "This phone's clock is off by 7 min — completions may be flagged")

        // The server computed the same statuses from the events it accepted.
        let json = try adminGet(
            "\(server)/v1/admin/sites/harbor/statuses?from=2026-12-09T05:00:00Z&until=2026-12-10T05:00:00Z"
                + "&now=2026-12-09T12:10:00Z",
            token: adminToken)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        func serverStatus(_ occurrence: UUID) -> String? {
            rows.first { ($0["occurrence"] as? String)?.lowercased() == occurrence.uuidString.lowercased() }?["status"]
                as? String
        }
        XCTAssertEqual(serverStatus(opening.id), "done_on_time")
        XCTAssertEqual(serverStatus(sixAm.id), "done_late")

        // --- Reminders, push token, notification taps --------------------------------------
        time.fix(shift)
        let plan = try await ReminderPlanner.plan(session, horizon: 4 * 3600)
        XCTAssertTrue(plan.contains { $0.title.contains("Fridge temperatures") }, "\(plan)")
        XCTAssertEqual(plan.map(\.fireAt), plan.map(\.fireAt).sorted())
        let tapped = try XCTUnwrap(plan.first)
        XCTAssertEqual(PushRoute.occurrence(from: tapped.userInfo), tapped.occurrence)
        let escalationPush: [AnyHashable: Any] = [
            "aps": ["alert": ["title": "Opening checks", "body": "overdue"]],
            "occurrence_id": opening.id.uuidString, "escalation_id": UUID().uuidString,
        ]
        relaunched.handleNotification(escalationPush)
        XCTAssertEqual(relaunched.openCheck, opening.id, "an escalation alert opens the check")

        let push = PushRegistration(session: session, store: keychain)
        let apnsToken = Data((0..<32).map { UInt8($0 * 7 % 256) })
        let pushError = await push.register(token: apnsToken)
        XCTAssertNil(pushError?.message)
        XCTAssertEqual(push.token, PushRegistration.hex(apnsToken))
        XCTAssertEqual(push.token?.count, 64)
        XCTAssertNotNil(keychain.read(PushRegistration.registeredKey), "kept, so it is sent once")

        // --- Dana (lead) reviews on her phone ------------------------------------------------
        time.fix(nil)
        let danaApp = AppModel(dir: tmp.appendingPathComponent("dana-phone").path, secrets: MemorySecretStore(), clock: time.clock)
        await danaApp.start()
        danaApp.enroll.server = server
        danaApp.enroll.code = leadCode
        await danaApp.join()
        XCTAssertEqual(danaApp.phase, .ready, "\(String(describing: danaApp.enroll.error))")
        XCTAssertTrue(danaApp.showsReview)
        let dana = try XCTUnwrap(danaApp.session)

        time.fix(shift)
        let review = ReviewViewModel(session: dana, locale: locale)
        review.days = 1
        await review.load()
        XCTAssertNil(review.error)
        XCTAssertEqual(review.site?.name, "Harbor Kitchen")
        let day = try XCTUnwrap(review.missed.first)
        XCTAssertEqual(day.day, "2026-12-09")
        XCTAssertEqual(day.title, "Wed 9 Dec")
        let lateRow = try XCTUnwrap(day.items.first { $0.id == sixAm.id }, "\(day.items)")
        XCTAssertEqual(lateRow.item.status, .doneLate)
        XCTAssertEqual(lateRow.localDue, "06:00")
        XCTAssertEqual(lateRow.outcome.prefix(12), "Done late · ")
        XCTAssertTrue(lateRow.outcome.hasSuffix("late · by Maria Lopez"), lateRow.outcome)
        XCTAssertFalse(lateRow.canExcuse)
        XCTAssertTrue(review.routines.contains { $0.name == "Fridge temperatures" && $0.counts.late == 1 })
        XCTAssertTrue(review.people.contains { $0.name == "Maria Lopez" })

        // Proof thumbnails came with the sync: Review shows them offline.
        let proof = CheckViewModel(session: dana, occurrence: opening.id, locale: locale)
        await proof.load()
        XCTAssertEqual(proof.completions.first?.photos, [taken.sha256])
        XCTAssertNotNil(proof.thumbnails[taken.sha256], "the thumbnail is on Dana's phone")
        let photos = await review.proof(opening.id)
        XCTAssertEqual(photos.map(\.sha256), [taken.sha256])
        XCTAssertEqual(photos.first?.step, "line-photo")
        XCTAssertNotNil(photos.first?.jpeg)

        // Excuse the 10:00 reading (a reason is required: the core says so).
        let tenAm = fridge[1].id
        let noReason = await review.excuse(tenAm, reason: "  ")
        XCTAssertFalse(noReason)
        XCTAssertEqual(review.error?.advice, .fixInput)
        XCTAssertFalse(review.error?.message.isEmpty ?? true)
        let excused = await review.excuse(tenAm, reason: "walk-in under repair, stock moved")
        XCTAssertTrue(excused, "\(String(describing: review.error))")
        let tenAmCheck = CheckViewModel(session: dana, occurrence: tenAm, locale: locale)
        await tenAmCheck.load()
        XCTAssertEqual(tenAmCheck.status, .excused)

        // Record an absence: Luis is away tomorrow.
        let luis = try XCTUnwrap(review.sitePeople.first { $0.name == "Luis Ortega" })
        let absent = await review.recordAbsence(
            person: luis.id, from: instant("2026-12-10T05:00:00Z"), until: instant("2026-12-11T05:00:00Z"),
            reason: "doctor")
        XCTAssertTrue(absent, "\(String(describing: review.error))")
        XCTAssertTrue(review.confirmation?.contains("Luis Ortega") ?? false)

        // Maria may not excuse: the core's refusal, verbatim.
        let mariaReview = ReviewViewModel(session: session, locale: locale)
        XCTAssertFalse(mariaReview.isAvailable)
        let mariaExcuse = await mariaReview.excuse(fridge[2].id, reason: "busy")
        XCTAssertFalse(mariaExcuse)
        XCTAssertEqual(mariaReview.error?.advice, .notAllowed)

        time.fix(nil)
        let danaSync = await SyncViewModel(session: dana).sync()
        XCTAssertEqual(danaSync?.accepted, 2, "the excuse and the absence")
        let chain = try await dana.run { try $0.verifyChain() }
        XCTAssertTrue(chain.intact)
    }

    func testDueTimesAreFormattedInTheSiteZone() {
        let time = SiteTime(zone: "America/New_York", locale: Locale(identifier: "en_GB"))
        let due = instant("2026-12-09T12:00:00Z")
        XCTAssertEqual(time.time(due), "07:00")
        XCTAssertEqual(time.dueText(due, now: instant("2026-12-09T12:10:00Z")), "07:00")
        XCTAssertEqual(time.dueText(due, now: instant("2026-12-10T12:10:00Z")), "Wed 9 Dec, 07:00")
        XCTAssertEqual(time.relative(due, now: instant("2026-12-09T12:10:00Z")), "10 min ago")
        XCTAssertEqual(time.relative(due, now: instant("2026-12-09T10:30:00Z")), "in 1 h 30 min")
        XCTAssertEqual(time.localText("2026-12-09T07:00:00", now: due), "07:00")
        // Late at night in New York is already the next day in UTC: the site's day counts.
        let period = time.lastDays(1, now: instant("2026-12-10T03:00:00Z"))  // 22:00 on the 9th
        XCTAssertEqual(period.from, instant("2026-12-09T05:00:00Z"))
        XCTAssertEqual(period.until, instant("2026-12-10T05:00:00Z"))
    }

    /// Every step kind hands the core its answer (the demo site's routines have no choice or
    /// signature steps, so these are checked here, without the core).
    func testEveryStepKindBecomesTheCoresAnswer() {
        func requirement(_ kind: StepType, required: Bool = true, options: [String] = []) -> StepRequirement {
            StepRequirement(
                key: "k", title: "T", kind: kind, required: required, unit: kind == .reading ? "°C" : nil,
                min: kind == .reading ? 1 : nil, max: kind == .reading ? 5 : nil,
                minPhotos: kind == .photo ? 2 : nil, options: options, requirement: "")
        }
        var choice = StepDraft(requirement: requirement(.choice, options: ["Yes", "No"]))
        XCTAssertNil(choice.result)
        XCTAssertFalse(choice.hasInput)
        choice.choice = "No"
        XCTAssertEqual(choice.result?.answer, .choice(option: "No"))

        var text = StepDraft(requirement: requirement(.text))
        text.text = "  \n"
        XCTAssertFalse(text.hasInput, "blank text is no answer")
        text.text = " mopped "
        XCTAssertEqual(text.result?.answer, .text(text: "mopped"))

        var signature = StepDraft(requirement: requirement(.signature))
        XCTAssertFalse(signature.hasInput)
        signature.signature = SignatureStrokes(strokes: [[.init(x: 1, y: 2), .init(x: 3, y: 4)]]).encoded
        XCTAssertEqual(signature.result?.answer, .signature(data: "M1 2 L3 4"))

        var reading = StepDraft(requirement: requirement(.reading))
        reading.readingText = "abc"
        XCTAssertTrue(reading.hasInput, "presence only: the core names a non-number")
        XCTAssertTrue(reading.result.map { if case let .reading(value, _) = $0.answer { return value.isNaN } else { return false } } ?? false,
                      "not a number: the core names it")
        reading.readingText = "0.5"
        XCTAssertFalse(reading.showsCorrectivePrompt, "until the core reports it out of range")
        reading.problem = .notANumber
        XCTAssertFalse(reading.showsCorrectivePrompt, "only an out-of-range problem opens it")
        reading.problem = .outOfRange(value: 0.5, unit: "°C", min: 1, max: 5)
        XCTAssertTrue(reading.showsCorrectivePrompt)
        reading.correctiveAction = "recalibrated"
        reading.problem = nil
        XCTAssertTrue(reading.showsCorrectivePrompt, "stays open while it holds an answer")
        XCTAssertEqual(reading.result?.answer, .reading(value: 0.5, correctiveAction: "recalibrated"))

        let photo = StepDraft(requirement: requirement(.photo))
        XCTAssertEqual(photo.photosNeeded, 2)
        XCTAssertFalse(photo.hasInput)
    }

    func testEnrollmentCodesAndLinks() {
        XCTAssertEqual(EnrollLink.normalize(" 7kq2 m9xd 4fhp "), "7KQ2-M9XD-4FHP")
        XCTAssertEqual(EnrollLink.normalize("7kq2-m9xd-4fhp"), "7KQ2-M9XD-4FHP")
        XCTAssertEqual(
            EnrollLink.parse("https://proofline.example/enroll?server=https%3A%2F%2Fsync.example&code=7kq2m9xd4fhp"),
            EnrollLink(code: "7KQ2-M9XD-4FHP", server: "https://sync.example"))
        XCTAssertEqual(EnrollLink.parse("7KQ2-M9XD-4FHP"), EnrollLink(code: "7KQ2-M9XD-4FHP", server: nil))
        XCTAssertEqual(Formats.dueText(.overdue, due: instant("2026-12-09T12:00:00Z"), now: instant("2026-12-09T12:20:00Z")), "20 min overdue")
        XCTAssertEqual(Formats.dueText(.open, due: instant("2026-12-09T12:50:00Z"), now: instant("2026-12-09T12:00:00Z")), "due in 50 min")
        XCTAssertEqual(Formats.span(24 * 60 + 180), "1 d 3 h")
        XCTAssertEqual(Formats.percent(91.6), "92 %")
        XCTAssertEqual(Formats.range(min: nil, max: 8, unit: "°C"), "at most 8 °C")
        let site = SiteTime(zone: "America/New_York")
        XCTAssertEqual(site.ago(instant("2026-12-09T12:00:00Z"), now: instant("2026-12-09T12:05:30Z")), "5 min ago")
        XCTAssertEqual(site.ago(instant("2026-12-07T12:00:00Z"), now: instant("2026-12-09T12:00:00Z")), "Mon 7 Dec, 07:00")
    }

    func testSignatureStrokesEncodeAsAPath() {
        let strokes = SignatureStrokes(strokes: [
            [.init(x: 10.2, y: 12), .init(x: 11, y: 14.6)], [], [.init(x: 30, y: 5)],
        ])
        XCTAssertEqual(strokes.encoded, "M10 12 L11 15 M30 5")
        XCTAssertTrue(SignatureStrokes().isEmpty)
    }

    func testErrorsKeepTheCoresSentence() {
        let offline = ShownError(ProoflineError.Offline(message: "the server did not answer; try again later"))
        XCTAssertEqual(offline.message, "the server did not answer; try again later")
        XCTAssertTrue(offline.isOffline)
        XCTAssertEqual(ShownError(ProoflineError.NotAllowed(message: "Maria Lopez is staff")).advice, .notAllowed)
    }
}
