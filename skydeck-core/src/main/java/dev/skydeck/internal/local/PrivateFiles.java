package dev.skydeck.internal.local;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Files only their owner can read: 0600 for files, 0700 for directories, set explicitly so that
 * the umask does not matter. On file systems without POSIX permissions they are created as usual.
 * JDK only, because the job runner uses it too.
 */
public final class PrivateFiles {
    /** {@code rw-------}. */
    public static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
    /** {@code rwx------}. */
    public static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");

    private PrivateFiles() {
    }

    /** Creates {@code dir} and its missing parents, each 0700; an existing directory is left as it is. */
    public static Path createDirectories(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath();
        if (Files.isDirectory(abs)) {
            return dir;
        }
        Path parent = abs.getParent();
        if (parent != null) {
            createDirectories(parent);
        }
        try {
            Files.createDirectory(abs);
            restrict(abs, DIRECTORY);
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(abs)) {
                throw e;
            }
        }
        return dir;
    }

    /** Creates the directory {@code dir} (its parent must exist), 0700. */
    public static Path createDirectory(Path dir) throws IOException {
        Files.createDirectory(dir);
        restrict(dir, DIRECTORY);
        return dir;
    }

    /** Creates the empty file {@code file}, 0600; fails if it exists. */
    public static Path createFile(Path file) throws IOException {
        Files.createFile(file);
        restrict(file, FILE);
        return file;
    }

    /** Creates {@code file} empty, 0600, unless it exists; an existing one is made 0600 too. */
    public static Path ensureFile(Path file) throws IOException {
        try {
            Files.createFile(file);
        } catch (FileAlreadyExistsException e) {
            // made private below
        }
        restrict(file, FILE);
        return file;
    }

    /** Makes an existing file 0600 or directory 0700, if the file system has POSIX permissions. */
    public static void restrict(Path path) throws IOException {
        restrict(path, Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS) ? DIRECTORY : FILE);
    }

    private static void restrict(Path path, Set<PosixFilePermission> mode) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class,
                LinkOption.NOFOLLOW_LINKS);
        if (view != null) {
            view.setPermissions(mode);
        }
    }
}
