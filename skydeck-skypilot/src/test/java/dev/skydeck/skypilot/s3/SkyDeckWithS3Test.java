package dev.skydeck.skypilot.s3;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import dev.skydeck.Checkpoint;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.SkyDeck;
import dev.skydeck.memory.InMemoryStore;
import dev.skydeck.testing.FakeBackend;
import dev.skydeck.testing.ManualClock;
import dev.skydeck.testing.NoThreadLeaks;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** SkyDeck with checkpoints from an S3 stub: what users see for each experiment. */
@ExtendWith(NoThreadLeaks.class)
class SkyDeckWithS3Test {
    private static final Instant T = Instant.parse("2026-03-01T12:00:00Z");

    private WireMockServer server;
    private S3Stub stub;
    private SkyDeck deck;
    private final ManualClock clock = new ManualClock();

    @BeforeEach
    void start() {
        server = new WireMockServer(WireMockConfiguration.options().dynamicPort().bindAddress("127.0.0.1"));
        server.start();
        stub = new S3Stub(server);
        deck = SkyDeck.builder().store(new InMemoryStore()).backend(new FakeBackend(clock)).clock(clock)
                .scheduler(clock).checkpoints(stub.source("softmax-public", "policies")).build();
    }

    @AfterEach
    void stop() {
        deck.close();
        server.stop();
    }

    @Test
    void experimentsShowTheirCheckpointsEpochsVersionsAndReplays() {
        Experiment ppo = deck.create(ExperimentSpec.named("ppo_4layer"));
        Experiment empty = deck.create(ExperimentSpec.named("no_ckpt"));
        List<S3Stub.Obj> objects = new ArrayList<>();
        for (int v = 1; v <= 3; v++) {
            objects.add(new S3Stub.Obj("policies/ppo_4layer/ppo_4layer:v" + v + ".mpt", 1000L * v, T.plusSeconds(v)));
        }
        objects.add(new S3Stub.Obj("policies/ppo_4layer/replays/epoch_3.json.z", 7, T));
        stub.page("softmax-public", "policies/ppo_4layer/", null, null, objects, List.of());
        stub.page("softmax-public", "policies/no_ckpt/", null, null, List.of(), List.of());

        assertThat(deck.health().checkpointSource()).startsWith("s3://softmax-public/policies");
        deck.backfillCheckpoints((done, total) -> { });

        assertThat(deck.refresh(ppo).latestEpoch()).isEqualTo(3L);
        assertThat(deck.refresh(empty).latestEpoch()).isNull();
        Checkpoint latest = deck.checkpoints(ppo, 10).get(0);
        assertThat(latest.modelPath()).isEqualTo("s3://softmax-public/policies/ppo_4layer/ppo_4layer:v3.mpt");
        assertThat(latest.policyVersion()).isEqualTo("v3");
        assertThat(latest.sizeBytes()).isEqualTo(3000L);
        assertThat(latest.createdAt()).isEqualTo(T.plusSeconds(3));
        assertThat(latest.replayPaths()).containsExactly("s3://softmax-public/policies/ppo_4layer/replays/epoch_3.json.z");
        assertThat(deck.experiments()).filteredOn(e -> e.name().equals("ppo_4layer")).singleElement()
                .satisfies(e -> assertThat(e.latestEpoch()).isEqualTo(3L));
    }
}
