// The words the app shows that are not the core's: the same strings as the Android app
// (screen names, buttons, banners). Every error and status sentence comes from the core.

import Foundation

public enum Copy {
    // Screens (the Attention screen is the "Today" tab).
    public static let enroll = "Enroll"
    public static let attention = "Attention"
    public static let todayTab = "Today"
    public static let check = "Check"
    public static let review = "Review"
    public static let sync = "Sync"

    // Enroll.
    public static let enrollmentCode = "Enrollment code"
    public static let joinSite = "Join site"
    public static let serverAddress = "Server address"
    public static let deviceName = "Phone name"
    public static let scanCode = "Scan code"

    // Attention / Today.
    public static let allChecksOnTrack = "All checks on track"
    public static let offlineBanner =
        "Offline — changes are saved on this phone and sync when you're back online"
    public static let laterToday = "Later today"
    public static let notYetConfirmed = "Not yet confirmed by the server"

    // Check.
    public static let completeCheck = "Complete check"
    public static let takePhoto = "Take photo"
    public static let retake = "Retake"
    public static let outOfRangeTitle = "Out of range — what did you do?"
    public static let note = "Note"
    public static let signHere = "Sign here"
    public static let clearSignature = "Clear"
    public static let acknowledge = "Acknowledge"
    public static let pendingUpload = "Pending upload"

    // Review.
    public static let excuse = "Excuse"
    public static let reason = "Reason"
    public static let recordAbsence = "Record absence"
    public static let missedAndLate = "Missed and late"
    public static let byRoutine = "By routine"
    public static let byPerson = "By person"
    public static let proof = "Proof"

    // Sync.
    public static let waitingToSync = "Waiting to sync"
    public static let photosWaiting = "Photos waiting"
    public static let lastSynced = "Last synced"
    public static let never = "Never"
    public static let syncNow = "Sync now"

    /// The clock-skew warning, N in whole minutes.
    public static func clockSkew(minutes: Int) -> String {
        "This phone's clock is off by \(minutes) min — completions may be flagged"
    }
}
