import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Replaces a file atomically: the content goes to a temporary file in the same directory, which is
/// flushed to disk and then renamed over the target.
///
/// Readers see either the old file or the complete new one, never a partial write, and the file and
/// its directory entry are synced so a completed save survives a crash. On any error the temporary
/// file is removed and an existing target is left untouched.
public enum AtomicFile {
    /// Creates a temporary sibling of `url`, lets `body` write it through the handle, syncs it and
    /// renames it over `url`.
    ///
    /// - Throws: Errors thrown by `body` unchanged; ``SafeTensorsError/io(file:operation:reason:)``
    ///   naming `url` when the temporary file cannot be created, written, synchronised or renamed.
    public static func write(to url: URL, _ body: (FileHandle) throws -> Void) throws {
        let target = url.standardizedFileURL
        let directory = target.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(target.lastPathComponent).\(UUID().uuidString).tmp")
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw SafeTensorsError.io(file: url.path, operation: "create a temporary file in \(directory.path)",
                                      reason: String(cString: strerror(errno)))
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do {
            do {
                try body(handle)
                try handle.synchronize()
                try handle.close()
            } catch let error as SafeTensorsError {
                try? handle.close()
                throw error
            } catch {
                try? handle.close()
                throw SafeTensorsError.io(file: url.path, operation: "write \(temporary.lastPathComponent)",
                                          reason: error.localizedDescription)
            }
            guard rename(temporary.path, target.path) == 0 else {
                throw SafeTensorsError.io(file: url.path, operation: "rename the temporary file over it",
                                          reason: String(cString: strerror(errno)))
            }
            syncDirectory(directory)
        } catch {
            unlink(temporary.path)
            throw error
        }
    }

    /// Flushes the directory entry of the rename to disk, so the new file survives a power loss;
    /// best effort, as some file systems cannot sync directories (the rename itself has succeeded).
    private static func syncDirectory(_ directory: URL) {
        let descriptor = open(directory.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        _ = close(descriptor)
    }
}
