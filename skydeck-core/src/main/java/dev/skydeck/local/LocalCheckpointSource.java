package dev.skydeck.local;

import dev.skydeck.SkyDeckException;
import dev.skydeck.SkyDeckHome;
import dev.skydeck.internal.Validate;
import dev.skydeck.spi.CheckpointObject;
import dev.skydeck.spi.CheckpointSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Checkpoints that local jobs write: every file under {@code <dir>/<experiment name>/} (the
 * directory the local backend passes to jobs as {@code SKYDECK_CHECKPOINT_DIR}). Symbolic links
 * are not followed, so a listing never leaves the directory.
 */
public final class LocalCheckpointSource implements CheckpointSource {
    private final Path dir;

    /** A source over {@code <SkyDeck home>/local/checkpoints}. */
    public LocalCheckpointSource() {
        this(SkyDeckHome.localCheckpoints(SkyDeckHome.dir()));
    }

    /** A source over {@code dir}, which holds one directory per experiment. */
    public LocalCheckpointSource(Path dir) {
        this.dir = Objects.requireNonNull(dir, "dir").toAbsolutePath().normalize();
    }

    @Override
    public String describe() {
        return dir.toString();
    }

    /**
     * Every regular file below the experiment's directory, by relative path; empty when the
     * directory does not exist.
     *
     * @throws SkyDeckException.InvalidInput for a name that is not an experiment name
     * @throws SkyDeckException              retryable, when the directory cannot be read
     */
    @Override
    public List<CheckpointObject> list(String experimentName) {
        Validate.name("experiment name", experimentName);
        Path root = dir.resolve(experimentName).normalize();
        if (!dir.equals(root.getParent())) {
            throw Validate.invalid("experiment name '" + experimentName + "' does not name a directory in " + dir);
        }
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        List<CheckpointObject> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                BasicFileAttributes attrs;
                try {
                    attrs = Files.readAttributes(file, BasicFileAttributes.class,
                            java.nio.file.LinkOption.NOFOLLOW_LINKS);
                } catch (NoSuchFileException e) {
                    continue; // deleted while listing
                }
                if (!attrs.isRegularFile()) {
                    continue;
                }
                String relative = root.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
                out.add(new CheckpointObject(file.toUri().toString(), relative, attrs.size(),
                        attrs.lastModifiedTime().toInstant()));
            }
        } catch (IOException | UncheckedIOException e) {
            throw new SkyDeckException("cannot list checkpoints of experiment " + experimentName + " in " + root + ": "
                    + e.getMessage() + "; check the directory's permissions", true, e);
        }
        out.sort(Comparator.comparing(CheckpointObject::relativePath));
        return out;
    }
}
