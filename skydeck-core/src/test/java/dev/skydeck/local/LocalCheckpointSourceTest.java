package dev.skydeck.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.skydeck.SkyDeckException;
import dev.skydeck.internal.checkpoint.CheckpointNames;
import dev.skydeck.spi.CheckpointObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalCheckpointSourceTest {
    @TempDir
    Path dir;

    @Test
    void listsEveryFileBelowTheExperimentDirectory() throws IOException {
        Path exp = Files.createDirectories(dir.resolve("exp-1"));
        Files.writeString(exp.resolve("run:v3.mpt"), "12345");
        Instant time = Instant.parse("2025-03-01T10:00:00Z");
        Files.setLastModifiedTime(exp.resolve("run:v3.mpt"), FileTime.from(time));
        Files.createDirectories(exp.resolve("replays"));
        Files.writeString(exp.resolve("replays/run.epoch3.json"), "{}");
        Files.createDirectories(dir.resolve("exp-2"));
        Files.writeString(dir.resolve("exp-2/other.pt"), "x");

        List<CheckpointObject> objects = new LocalCheckpointSource(dir).list("exp-1");

        assertThat(objects).extracting(CheckpointObject::relativePath)
                .containsExactly("replays/run.epoch3.json", "run:v3.mpt");
        CheckpointObject model = objects.get(1);
        assertThat(model.sizeBytes()).isEqualTo(5);
        assertThat(model.lastModified()).isEqualTo(time);
        assertThat(model.uri()).startsWith("file:/").endsWith("/exp-1/run:v3.mpt");
        assertThat(Path.of(java.net.URI.create(model.uri()))).isEqualTo(exp.resolve("run:v3.mpt"));
        assertThat(CheckpointNames.checkpoints(1, objects, time)).singleElement().satisfies(c -> {
            assertThat(c.epoch()).isEqualTo(3);
            assertThat(c.replayPaths()).hasSize(1);
        });
    }

    @Test
    void aMissingDirectoryIsAnEmptyListing() {
        assertThat(new LocalCheckpointSource(dir.resolve("nowhere")).list("exp")).isEmpty();
        assertThat(new LocalCheckpointSource(dir).list("exp")).isEmpty();
    }

    @Test
    void symbolicLinksAreNotFollowedOutOfTheDirectory() throws IOException {
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.writeString(outside.resolve("secret.pt"), "x");
        Path exp = Files.createDirectories(dir.resolve("checkpoints/exp"));
        Files.createSymbolicLink(exp.resolve("link"), outside);

        assertThat(new LocalCheckpointSource(dir.resolve("checkpoints")).list("exp")).isEmpty();
    }

    @Test
    void namesThatAreNotExperimentNamesAreRefused() {
        LocalCheckpointSource source = new LocalCheckpointSource(dir);
        assertThatThrownBy(() -> source.list("..")).isInstanceOf(SkyDeckException.InvalidInput.class);
        assertThatThrownBy(() -> source.list("a/b")).isInstanceOf(SkyDeckException.InvalidInput.class);
        assertThat(source.describe()).isEqualTo(dir.toAbsolutePath().normalize().toString());
    }
}
