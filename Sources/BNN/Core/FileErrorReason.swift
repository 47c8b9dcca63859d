import Foundation

/// Plain reasons for file errors, instead of Foundation's `NSCocoaErrorDomain` texts: what a message
/// naming a file should say after the path.
public enum FileErrorReason {
    /// Why `error` happened on reading or writing the file at `path`: "is a directory, expected a
    /// file", "no such file", or the system's reason (e.g. "Permission denied").
    public static func describe(_ error: any Error, path: String) -> String {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if exists && isDirectory.boolValue { return "is a directory, expected a file" }
        let nsError = error as NSError
        let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError
        for candidate in [underlying, nsError] {
            if let candidate, candidate.domain == NSPOSIXErrorDomain, let text = strerror(Int32(candidate.code)) {
                return String(cString: text)
            }
        }
        if !exists { return "no such file" }
        return error.localizedDescription
    }
}
