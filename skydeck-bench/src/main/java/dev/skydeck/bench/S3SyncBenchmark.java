package dev.skydeck.bench;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.SkyDeck;
import dev.skydeck.skypilot.s3.S3CheckpointSource;
import dev.skydeck.memory.InMemoryStore;
import dev.skydeck.spi.Store;
import dev.skydeck.sqlite.SqliteStore;
import dev.skydeck.testing.FakeBackend;
import dev.skydeck.testing.CountingStore;
import java.net.URI;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * Checkpoint sync of 1,000 experiments × 100 objects against an S3 stub (WireMock answering
 * ListObjectsV2): wall time, requests, and rows written by a cycle where nothing changed.
 *
 * <p>Run: {@code ./mvnw -q -pl skydeck-bench -am -DskipTests package exec:java
 * -Dbench.main=dev.skydeck.bench.S3SyncBenchmark}
 */
public final class S3SyncBenchmark {
    private S3SyncBenchmark() {
    }

    /** Runs the benchmark against both stores. */
    public static void main(String[] args) throws Exception {
        int experiments = 1000;
        int objects = 100;
        WireMockServer server = new WireMockServer(WireMockConfiguration.options().dynamicPort()
                .bindAddress("127.0.0.1").containerThreads(16).disableRequestJournal());
        server.start();
        AtomicInteger requests = new AtomicInteger();
        server.addMockServiceRequestListener((req, resp) -> requests.incrementAndGet());
        Instant t = Instant.parse("2026-03-01T00:00:00Z");
        for (int e = 0; e < experiments; e++) {
            String prefix = "policies/exp-" + e + "/";
            StringBuilder xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult "
                    + "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>bench</Name><Prefix>" + prefix
                    + "</Prefix><KeyCount>" + objects + "</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false"
                    + "</IsTruncated>");
            for (int o = 0; o < objects; o++) {
                String key = o % 2 == 0 ? prefix + "exp-" + e + ":v" + (o / 2) + ".mpt"
                        : prefix + "replays/epoch_" + (o / 2) + ".json.z";
                xml.append("<Contents><Key>").append(key).append("</Key><LastModified>").append(t.plusSeconds(o))
                        .append("</LastModified><ETag>&quot;e").append(o).append("&quot;</ETag><Size>")
                        .append(1000 + o).append("</Size><StorageClass>STANDARD</StorageClass></Contents>");
            }
            xml.append("</ListBucketResult>");
            server.stubFor(get(urlPathEqualTo("/bench")).withQueryParam("prefix", equalTo(prefix))
                    .willReturn(aResponse().withHeader("Content-Type", "application/xml").withBody(xml.toString())));
        }
        System.out.printf(Locale.ROOT, "S3 checkpoint sync — %d experiments × %d objects (50 models + 50 replays each)%n",
                experiments, objects);
        for (String kind : new String[] {"memory", "sqlite"}) {
            CountingStore store = new CountingStore(kind.equals("memory") ? new InMemoryStore()
                    : SqliteStore.open(Files.createTempDirectory("s3bench").resolve("bench.db")));
            S3CheckpointSource source = S3CheckpointSource.builder().bucket("bench").prefix("policies")
                    .endpoint(URI.create("http://127.0.0.1:" + server.port()))
                    .credentials(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "secret")))
                    .build();
            try (SkyDeck deck = SkyDeck.builder().store(store).backend(new FakeBackend(Clock.systemUTC()))
                    .checkpoints(source).syncInterval(Duration.ofHours(1)).pollInterval(Duration.ofHours(1))
                    .reconcileInterval(Duration.ofHours(1)).build()) {
                deck.createAll(IntStream.range(0, experiments).mapToObj(i -> ExperimentSpec.named("exp-" + i)).toList());
                for (int round = 1; round <= 3; round++) {
                    int req0 = requests.get();
                    int writes0 = store.dataWrites.get();
                    long t0 = System.nanoTime();
                    int rows = deck.backfillCheckpoints((done, total) -> { });
                    long t1 = System.nanoTime();
                    System.out.printf(Locale.ROOT, "[%s] cycle %d: %.0f ms, %d ListObjectsV2 requests, %d checkpoint rows"
                            + " written, %d write transactions%n", kind, round, (t1 - t0) / 1e6,
                            requests.get() - req0, rows, store.dataWrites.get() - writes0);
                }
            }
        }
        server.stop();
        System.exit(0);
    }
}
