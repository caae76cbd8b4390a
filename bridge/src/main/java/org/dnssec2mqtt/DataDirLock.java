package org.dnssec2mqtt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Keeps a second bridge off a data directory that one is using: an exclusive lock on
 * {@code <data.dir>/lock}, which holds the owner's pid. Two bridges on one directory would
 * overwrite each other's zone states, and the embedded broker's H2 store refuses a second opener
 * with a stack trace. The operating system drops the lock when the process dies, so a crash
 * leaves nothing to clean up; the file itself stays.
 */
public final class DataDirLock implements AutoCloseable {
    /** The data directory is locked by another process (or by another start in this one). */
    public static final class InUseException extends IOException {
        private static final long serialVersionUID = 1L;

        InUseException(Path dir, String pid) {
            super("data.dir " + dir + " is in use by another dnssec2mqtt (pid " + pid + ")");
        }
    }

    private final FileChannel channel;
    private final FileLock lock;

    private DataDirLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Locks {@code dataDir} (created when missing) and writes this process's pid into its lock file.
     *
     * @throws InUseException when another bridge holds it
     * @throws IOException when the directory or the file cannot be created or written
     */
    public static DataDirLock acquire(Path dataDir) throws IOException {
        Path dir = dataDir.toAbsolutePath().normalize();
        Files.createDirectories(dir);
        Path file = dir.resolve("lock");
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException sameProcess) {
            lock = null; // a FileChannel lock is per process: another start in this JVM holds it
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            channel.close();
            throw new InUseException(dir, holder(file));
        }
        try {
            byte[] pid = (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII);
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(pid), 0);
            channel.force(false);
        } catch (IOException e) {
            channel.close();
            throw new IOException("data.dir " + dir + ": cannot write " + file + ": " + e.getMessage(), e);
        }
        return new DataDirLock(channel, lock);
    }

    /** The pid written by the holder; it writes it right after locking, so wait briefly for it. */
    private static String holder(Path file) {
        long deadline = System.nanoTime() + 500_000_000L;
        while (true) {
            try {
                String text = Files.readString(file, StandardCharsets.US_ASCII).trim();
                if (!text.isEmpty() || System.nanoTime() > deadline) {
                    return text.isEmpty() ? "unknown" : text;
                }
            } catch (IOException e) {
                return "unknown";
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "unknown";
            }
        }
    }

    /** Releases the lock; the next bridge may start. */
    @Override
    public void close() {
        try {
            if (lock.isValid()) {
                lock.release();
            }
            channel.close();
        } catch (IOException e) {
            // closing the channel releases the lock in any case
        }
    }
}
