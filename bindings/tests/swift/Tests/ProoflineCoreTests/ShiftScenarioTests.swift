// Maria's shift through the generated Swift bindings, against the real library and the
// real server: the same scenario as bindings/tests/kotlin/ShiftScenario.kts.
//
// scripts/test-swift starts `proofline-server serve --demo` on the host's loopback (a chroot
// shares the network namespace) and passes, through the environment:
//   PROOFLINE_SERVER_URL   http://127.0.0.1:PORT
//   PROOFLINE_CODE         Maria Lopez's one-time enrollment code
//   PROOFLINE_ADMIN_TOKEN  the server's admin token (to read the server's statuses)
//   PROOFLINE_PHOTO        the 12 MP fixture forest-4032x3024-orient6.jpg
//
// Time: the shift happens at a fixed instant (Wed 9 Dec 2026, 07:10 in New York: the opening
// checks are due at 07:00); enrolling and syncing pass the real clock, as a phone would.

import Foundation
import XCTest

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@testable import ProoflineCore

private func instant(_ text: String) -> Date {
    guard let date = ISO8601DateFormatter().date(from: text) else {
        fatalError("not an ISO 8601 instant: \(text)")
    }
    return date
}

struct MissingEnvironment: Error, CustomStringConvertible {
    let name: String
    var description: String { "\(name) is not set: run this test through scripts/test-swift" }
}

/// A setting scripts/test-swift passes; the test fails (never skips) without it.
private func env(_ name: String) throws -> String {
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
        throw MissingEnvironment(name: name)
    }
    return value
}

/// `GET` an admin route of the server; the body as text.
private func adminGet(_ url: String, token: String) throws -> String {
    var request = URLRequest(url: URL(string: url)!)
    request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
    request.timeoutInterval = 30
    /// The answer, written by URLSession's thread before `done` is signalled.
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

final class ShiftScenarioTests: XCTestCase {
    let shift = instant("2026-12-09T12:10:00Z")  // 07:10 America/New_York

    func testMariasShiftSyncsToTheServer() throws {
        let server = try env("PROOFLINE_SERVER_URL")
        let code = try env("PROOFLINE_CODE")
        let adminToken = try env("PROOFLINE_ADMIN_TOKEN")
        let photoPath = try env("PROOFLINE_PHOTO")
        let tmp = FileManager.default.temporaryDirectory
            .appendingPathComponent("proofline-swift-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }

        // No device in an empty folder: a typed error.
        XCTAssertThrowsError(try Device.open(dir: tmp.appendingPathComponent("empty").path)) { error in
            guard case let .NotFound(text)? = error as? ProoflineError else {
                return XCTFail("expected ProoflineError.NotFound, got \(error)")
            }
            XCTAssertTrue(text.contains("no device is set up in"), text)
        }
        // A wrong code: Unauthorized, with what to do.
        XCTAssertThrowsError(
            try Device.enroll(
                dir: tmp.appendingPathComponent("wrong").path, server: server,
                code: "AAAA-BBBB-CCCC", platform: "ios", deviceName: nil, now: Date())
        ) { error in
            guard case let .Unauthorized(text)? = error as? ProoflineError else {
                return XCTFail("expected ProoflineError.Unauthorized, got \(error)")
            }
            XCTAssertTrue(text.contains("enrollment code"), text)
        }

        // Enroll Maria's phone; the first sync pulls the site, people and routines.
        let dir = tmp.appendingPathComponent("maria-phone").path
        do {
            let phone = try Device.enroll(
                dir: dir, server: server, code: code, platform: "ios",
                deviceName: "Maria's phone", now: Date())
            let org = phone.org()
            let maria = try XCTUnwrap(org.people.first { $0.name == "Maria Lopez" })
            XCTAssertEqual(phone.identity().person, maria.id)
            XCTAssertEqual(org.sites.map(\.name), ["Harbor Kitchen"])
            XCTAssertEqual(org.sites.first?.timeZone, "America/New_York")
            XCTAssertEqual(maria.roles.map(\.role), [.staff])
            let status = try phone.syncStatus()
            XCTAssertEqual(status.server, server)
            XCTAssertNil(status.lastError)
        }

        // Reopen the folder, as the app does on every launch.
        let phone = try Device.open(dir: dir)
        let harbor = try XCTUnwrap(phone.org().sites.first)

        // 07:10 local: the opening checks (due 07:00, 15 min grace) are due now.
        let feed = try phone.attention(now: shift)
        let first = try XCTUnwrap(feed.first)
        XCTAssertEqual(first.kind, .dueNow, first.message)
        XCTAssertEqual(first.status, .due)
        XCTAssertEqual(first.due, instant("2026-12-09T12:00:00Z"))
        XCTAssertTrue(first.message.contains("Opening checks"), first.message)

        let today = try phone.today(now: shift)
        let opening = try XCTUnwrap(today.first { $0.routineKey == "opening-checks" })
        XCTAssertEqual(first.occurrence, opening.occurrence.id)
        XCTAssertEqual(opening.localDue, "2026-12-09T07:00:00")
        let fridge = today.filter { $0.routineKey == "fridge-temps" }
        XCTAssertEqual(
            fridge.map { String($0.localDue.dropFirst(11).prefix(5)) },
            ["06:00", "10:00", "14:00", "18:00", "22:00"])

        // The check screen: steps and proof requirements.
        let detail = try phone.occurrence(occurrence: opening.occurrence.id, now: shift)
        XCTAssertEqual(detail.steps.map(\.key), ["handwash", "sanitizer", "line-photo"])
        XCTAssertEqual(detail.steps.last?.kind, .photo)
        XCTAssertEqual(detail.steps.last?.minPhotos, 1)
        XCTAssertEqual(detail.assigneeName, "Maria Lopez")
        XCTAssertEqual(detail.assignment.reason, .owner)
        XCTAssertEqual(detail.timeline.levels.count, 3)

        // Capture the 12 MP photo: upright (EXIF orientation 6), 1600 px, with a thumbnail.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: photoPath))
        let photo = try phone.capturePhoto(bytes: bytes, capturedAt: shift)
        XCTAssertEqual([photo.width, photo.height], [1200, 1600])
        XCTAssertEqual([photo.thumbWidth, photo.thumbHeight], [240, 320])
        XCTAssertEqual(photo.sha256.count, 64)
        let thumb = try XCTUnwrap(try phone.thumbnail(photoSha256: photo.sha256))
        XCTAssertEqual(Array(thumb.prefix(2)), [0xFF, 0xD8], "a JPEG thumbnail")

        // Complete the opening checks with the photo: done on time.
        let done = try phone.complete(
            occurrence: opening.occurrence.id,
            results: [
                StepResult(step: "handwash", answer: .checked),
                StepResult(step: "sanitizer", answer: .checked),
            ],
            photos: [photo.sha256], note: "all good", now: shift)
        XCTAssertEqual(
            done.results.first { $0.step == "line-photo" }?.answer, .photos(sha256: [photo.sha256]))
        XCTAssertEqual(
            try phone.occurrence(occurrence: opening.occurrence.id, now: shift).status, .doneOnTime)
        XCTAssertFalse(try phone.attention(now: shift).contains { $0.occurrence == opening.occurrence.id })

        // The 06:00 fridge reading (missed at 07:10, still doable late) with one reading only.
        let sixAm = try XCTUnwrap(fridge.first)
        XCTAssertThrowsError(
            try phone.complete(
                occurrence: sixAm.occurrence.id,
                results: [StepResult(step: "walk-in", answer: .reading(value: 3.5, correctiveAction: nil))],
                photos: [], note: nil, now: shift)
        ) { error in
            guard case let .ProofIncomplete(text)? = error as? ProoflineError else {
                return XCTFail("expected ProoflineError.ProofIncomplete, got \(error)")
            }
            XCTAssertTrue(text.hasPrefix("Line reach-in fridge: required, but not answered."), text)
            XCTAssertTrue(text.contains("complete the check again"), text)
        }

        // Out of range needs a corrective action; with it, the check is done (late).
        let late = try phone.complete(
            occurrence: sixAm.occurrence.id,
            results: [
                StepResult(
                    step: "walk-in",
                    answer: .reading(value: 7.5, correctiveAction: "moved stock, called maintenance")),
                StepResult(step: "reach-in", answer: .reading(value: 4, correctiveAction: nil)),
            ],
            photos: [], note: nil, now: shift)
        XCTAssertEqual(try phone.occurrence(occurrence: sixAm.occurrence.id, now: shift).status, .doneLate)
        XCTAssertEqual(
            try phone.outboxSummary(), OutboxSummary(pending: 2, accepted: 0, duplicate: 0, rejected: 0))
        XCTAssertEqual(try phone.syncStatus().pendingUploads, 1)

        // Sync with the real clock: photo and thumbnail uploaded, both events accepted.
        let report = try phone.sync(now: Date())
        XCTAssertTrue(report.complete, "\(report.errors)")
        XCTAssertEqual(report.pushed, 2)
        XCTAssertEqual(report.accepted, 2)
        XCTAssertEqual(report.rejected, [])
        XCTAssertEqual(report.uploadedBlobs, 2)
        XCTAssertFalse(report.clockSkewWarning, "offset \(String(describing: report.clockOffsetMs)) ms")
        XCTAssertEqual(
            try phone.outboxSummary(), OutboxSummary(pending: 0, accepted: 2, duplicate: 0, rejected: 0))
        XCTAssertEqual(try phone.syncStatus().pendingUploads, 0)

        // The server computes the same statuses from the events it accepted.
        let from = "2026-12-09T05:00:00Z"
        let until = "2026-12-10T05:00:00Z"
        let json = try adminGet(
            "\(server)/v1/admin/sites/harbor/statuses?from=\(from)&until=\(until)&now=2026-12-09T12:10:00Z",
            token: adminToken)
        let rows = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        func serverRow(_ occurrence: UUID) -> [String: Any]? {
            rows.first { ($0["occurrence"] as? String)?.lowercased() == occurrence.uuidString.lowercased() }
        }
        let openingRow = try XCTUnwrap(serverRow(opening.occurrence.id), json)
        XCTAssertEqual(openingRow["status"] as? String, "done_on_time")
        XCTAssertEqual(
            (openingRow["counted_completion"] as? String)?.lowercased(), done.id.uuidString.lowercased())
        let sixAmRow = try XCTUnwrap(serverRow(sixAm.occurrence.id), json)
        XCTAssertEqual(sixAmRow["status"] as? String, "done_late")
        XCTAssertEqual(
            (sixAmRow["counted_completion"] as? String)?.lowercased(), late.id.uuidString.lowercased())
        let local = try phone.statuses(
            site: harbor.id, from: instant(from), until: instant(until), now: shift)
        XCTAssertEqual(local.first { $0.occurrence == opening.occurrence.id }?.status, .doneOnTime)

        // Reminders for the next hours come from the same store, offline.
        let reminders = try phone.upcomingReminders(now: shift, horizon: 4 * 3600)
        XCTAssertTrue(
            reminders.contains { $0.kind == .due && $0.title.contains("Fridge temperatures") },
            "\(reminders)")
        XCTAssertTrue(try phone.verifyChain().intact)
    }
}
