package dev.skydeck.internal.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import dev.skydeck.Checkpoint;
import dev.skydeck.spi.CheckpointObject;
import java.time.Instant;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class CheckpointNamesTest {
    private static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");
    private static final Instant SYNCED = Instant.parse("2025-02-01T00:00:00Z");

    @ParameterizedTest(name = "{0} -> epoch {1}")
    @CsvSource({
            "run:v100.mpt, 100",
            "my.run-3:v7.pt, 7",
            "checkpoint_0042.pt, 42",
            "checkpoint-5.pt, 5",
            "checkpoint9.safetensors, 9",
            "Checkpoint_12.pt, 12",
            "epoch12.pt, 12",
            "epoch_3.mpt, 3",
            "model-7.safetensors, 7",
            "model_0001.pt, 1",
            "step-300.pt, 300",
            "step300.pt, 300",
            "100.mpt, 100",
            "0.pt, 0",
            "checkpoint_3_epoch_9.pt, 3",
            "epoch_4_step_900.pt, 4",
            "model_v2:v15.mpt, 15",
            "replay_epoch12.json, 12",
    })
    void epochFromName(String name, long epoch) {
        assertThat(CheckpointNames.epoch(name)).isEqualTo(OptionalLong.of(epoch));
    }

    @ParameterizedTest
    @ValueSource(strings = {"notes.txt", "config.yaml", "v2-final.mpt", "final.pt", "run:vX.mpt", "model.pt",
            "run-100-final.mpt", "", "checkpoint_123456789012345678901.pt", "100", "trainer_state.json"})
    void namesWithoutAnEpoch(String name) {
        assertThat(CheckpointNames.epoch(name)).isEmpty();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(value = {
            "run:v100.mpt, v100",
            "run:v007.mpt, v7",
            "checkpoint_0042.pt, NULL",
            "v2-final.mpt, NULL",
            "100.mpt, NULL",
    }, nullValues = "NULL")
    void policyVersionFromName(String name, String version) {
        assertThat(CheckpointNames.policyVersion(name)).isEqualTo(version);
    }

    @Test
    void modelFilesByExtension() {
        assertThat(CheckpointNames.isModel("run:v1.mpt")).isTrue();
        assertThat(CheckpointNames.isModel("a.PT")).isTrue();
        assertThat(CheckpointNames.isModel("model-7.safetensors")).isTrue();
        assertThat(CheckpointNames.isModel("notes.txt")).isFalse();
        assertThat(CheckpointNames.isModel(".pt")).isFalse();
        assertThat(CheckpointNames.isModel("weights.bin", Set.of(".bin"))).isTrue();
        assertThat(CheckpointNames.isModel("weights.pt", Set.of(".bin"))).isFalse();
    }

    @Test
    void oneCheckpointPerEpochWithItsReplays() {
        List<CheckpointObject> objects = List.of(
                object("run:v2.mpt", 200, T0.plusSeconds(20)),
                object("run:v1.mpt", 100, T0.plusSeconds(10)),
                object("replays/run.epoch1.json", 5, T0),
                object("replays/run.epoch1.b.json", 5, T0),
                object("replays/run.epoch9.json", 5, T0),
                object("notes.txt", 1, T0),
                object("config.yaml", 1, T0));

        List<Checkpoint> checkpoints = CheckpointNames.checkpoints(42, objects, SYNCED);

        assertThat(checkpoints).hasSize(2);
        Checkpoint first = checkpoints.get(0);
        assertThat(first.experimentId()).isEqualTo(42);
        assertThat(first.epoch()).isEqualTo(1);
        assertThat(first.modelPath()).isEqualTo("s3://b/p/exp/run:v1.mpt");
        assertThat(first.policyVersion()).isEqualTo("v1");
        assertThat(first.sizeBytes()).isEqualTo(100);
        assertThat(first.createdAt()).isEqualTo(T0.plusSeconds(10));
        assertThat(first.syncedAt()).isEqualTo(SYNCED);
        assertThat(first.present()).isTrue();
        assertThat(first.replayPaths()).containsExactly("s3://b/p/exp/replays/run.epoch1.b.json",
                "s3://b/p/exp/replays/run.epoch1.json");
        assertThat(checkpoints.get(1).epoch()).isEqualTo(2);
        assertThat(checkpoints.get(1).replayPaths()).isEmpty();
    }

    @Test
    void twoModelsOfOneEpochPickTheNewestThenTheName() {
        List<CheckpointObject> objects = List.of(
                object("old/checkpoint_5.pt", 1, T0),
                object("new/checkpoint_5.pt", 2, T0.plusSeconds(5)),
                object("b/epoch7.pt", 3, T0),
                object("a/epoch7.pt", 4, T0));

        List<Checkpoint> checkpoints = CheckpointNames.checkpoints(1, objects, SYNCED);
        List<Checkpoint> reversed = CheckpointNames.checkpoints(1, reversed(objects), SYNCED);

        assertThat(checkpoints).extracting(Checkpoint::modelPath)
                .containsExactly("s3://b/p/exp/new/checkpoint_5.pt", "s3://b/p/exp/a/epoch7.pt");
        assertThat(reversed).isEqualTo(checkpoints);
    }

    @Test
    void modelFilesUnderReplaysAreReplaysNotModels() {
        List<CheckpointObject> objects = List.of(object("replays/model_3.pt", 1, T0));

        assertThat(CheckpointNames.checkpoints(1, objects, SYNCED)).isEmpty();
    }

    private static <T> List<T> reversed(List<T> list) {
        List<T> copy = new java.util.ArrayList<>(list);
        java.util.Collections.reverse(copy);
        return copy;
    }

    private static CheckpointObject object(String relativePath, long size, Instant time) {
        return new CheckpointObject("s3://b/p/exp/" + relativePath, relativePath, size, time);
    }
}
