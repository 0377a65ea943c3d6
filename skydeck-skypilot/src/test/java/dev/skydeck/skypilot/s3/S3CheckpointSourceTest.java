package dev.skydeck.skypilot.s3;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import dev.skydeck.SkyDeckConfig;
import dev.skydeck.SkyDeckException;
import dev.skydeck.spi.CheckpointObject;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The S3 checkpoint source against a stub that answers ListObjectsV2 as S3 does. */
class S3CheckpointSourceTest {
    private static final Instant T = Instant.parse("2026-03-01T12:00:00Z");

    private WireMockServer server;
    private S3Stub stub;
    private S3CheckpointSource source;

    @BeforeEach
    void start() {
        server = new WireMockServer(WireMockConfiguration.options().dynamicPort().bindAddress("127.0.0.1"));
        server.start();
        stub = new S3Stub(server);
        source = stub.source("softmax-public", "policies");
    }

    @AfterEach
    void stop() {
        source.close();
        server.stop();
    }

    private static S3Stub.Obj obj(String key, long size) {
        return new S3Stub.Obj(key, size, T);
    }

    @Test
    void everyPageIsListedByFollowingContinuationTokens() {
        stub.page("softmax-public", "policies/ppo/", null, "tok-1",
                List.of(obj("policies/ppo/ppo:v1.mpt", 10), obj("policies/ppo/ppo:v2.mpt", 20)), List.of());
        stub.page("softmax-public", "policies/ppo/", "tok-1", "tok-2", List.of(obj("policies/ppo/ppo:v3.mpt", 30)),
                List.of());
        stub.page("softmax-public", "policies/ppo/", "tok-2", null,
                List.of(obj("policies/ppo/replays/replay_3.json.z", 5)), List.of());

        List<CheckpointObject> objects = source.list("ppo");

        assertThat(objects).extracting(CheckpointObject::relativePath)
                .containsExactly("ppo:v1.mpt", "ppo:v2.mpt", "ppo:v3.mpt", "replays/replay_3.json.z");
        assertThat(objects.get(2)).isEqualTo(new CheckpointObject("s3://softmax-public/policies/ppo/ppo:v3.mpt",
                "ppo:v3.mpt", 30, T));
        server.verify(3, getRequestedFor(urlPathEqualTo("/softmax-public")));
    }

    @Test
    void keysWithSpacesUnicodeAndXmlSpecialsComeBackExactly() {
        stub.page("softmax-public", "policies/exp/", null, null, List.of(
                obj("policies/exp/my run:v7.mpt", 1),
                obj("policies/exp/モデル-8.safetensors", 2),
                obj("policies/exp/a&b <c> 'd' \"e\" epoch_9.pt", 3)), List.of());

        assertThat(source.list("exp")).extracting(CheckpointObject::relativePath)
                .containsExactly("my run:v7.mpt", "モデル-8.safetensors", "a&b <c> 'd' \"e\" epoch_9.pt");
    }

    @Test
    void commonPrefixesAndFolderMarkersAreNotObjects() {
        stub.page("softmax-public", "policies/exp/", null, null,
                List.of(obj("policies/exp/", 0), obj("policies/exp/checkpoint_0042.pt", 4)),
                List.of("policies/exp/replays/"));

        assertThat(source.list("exp")).extracting(CheckpointObject::relativePath)
                .containsExactly("checkpoint_0042.pt");
    }

    @Test
    void anEmptyPrefixListsNothing() {
        stub.page("softmax-public", "policies/fresh/", null, null, List.of(), List.of());
        assertThat(source.list("fresh")).isEmpty();
    }

    @Test
    void aMissingBucketSaysWhichSettingToCheck() {
        stub.error("softmax-public", 404, "NoSuchBucket", "The specified bucket does not exist");
        assertThatThrownBy(() -> source.list("exp")).isInstanceOf(SkyDeckException.class)
                .hasMessageContaining("'softmax-public'").hasMessageContaining("SKYDECK_S3_BUCKET")
                .satisfies(e -> assertThat(((SkyDeckException) e).retryable()).isFalse());
    }

    @Test
    void accessDeniedSaysToCheckTheCredentials() {
        stub.error("softmax-public", 403, "AccessDenied", "Access Denied");
        assertThatThrownBy(() -> source.list("exp")).isInstanceOf(SkyDeckException.class)
                .hasMessageContaining("denied").hasMessageContaining("s3:ListBucket")
                .hasMessageNotContaining("secret-test")
                .satisfies(e -> assertThat(((SkyDeckException) e).retryable()).isFalse());
    }

    @Test
    void throttlingIsRetriedAndThenReportedAsRetryable() {
        stub.error("softmax-public", 503, "SlowDown", "Please reduce your request rate.");
        assertThatThrownBy(() -> source.list("exp")).isInstanceOf(SkyDeckException.class)
                .hasMessageContaining("throttling")
                .satisfies(e -> assertThat(((SkyDeckException) e).retryable()).isTrue());
        assertThat(server.getAllServeEvents()).hasSizeGreaterThan(1); // the SDK retried before giving up
    }

    @Test
    void aThrottledRequestThatSucceedsOnRetryReturnsTheListing() {
        server.stubFor(get(urlPathEqualTo("/softmax-public")).inScenario("slow").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(503).withHeader("Content-Type", "application/xml")
                        .withBody("<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"))
                .willSetStateTo("ok"));
        server.stubFor(get(urlPathEqualTo("/softmax-public")).inScenario("slow").whenScenarioStateIs("ok")
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/xml")
                        .withBody(S3Stub.listing("softmax-public", "policies/exp/", null, null,
                                List.of(obj("policies/exp/100.mpt", 1)), List.of()))));
        assertThat(source.list("exp")).extracting(CheckpointObject::relativePath).containsExactly("100.mpt");
    }

    @Test
    void describeNamesTheBucketPrefixAndEndpoint() {
        assertThat(source.describe()).startsWith("s3://softmax-public/policies at http://127.0.0.1:");
    }

    @Test
    void badOptionsAreRefusedNamingThem() {
        assertThatThrownBy(() -> S3CheckpointSource.builder().bucket("Bad_Bucket").build())
                .isInstanceOf(SkyDeckException.InvalidInput.class).hasMessageContaining("Bad_Bucket");
        assertThatThrownBy(() -> S3CheckpointSource.builder().endpoint(java.net.URI.create("ftp://x")).build())
                .isInstanceOf(SkyDeckException.InvalidInput.class).hasMessageContaining("endpoint");
    }

    @Test
    void theProviderAppliesWhenABucketIsSetOrTheBackendIsSkyPilot() {
        assertThat(new S3CheckpointSourceProvider().detect("local", env(Map.of()))).isEmpty();
        assertThat(new S3CheckpointSourceProvider().detect("skypilot", env(Map.of()))).get().asString()
                .contains("SkyPilot");
        S3CheckpointSourceProvider provider = new S3CheckpointSourceProvider();
        SkyDeckConfig configured = env(Map.of("SKYDECK_S3_BUCKET", "my-ckpts",
                "SKYDECK_S3_PREFIX", "/runs/", "SKYDECK_S3_ENDPOINT", "http://127.0.0.1:9000"));
        assertThat(provider.detect("local", configured)).contains("SKYDECK_S3_BUCKET is set");
        try (var s = provider.create(configured)) {
            assertThat(s.describe()).isEqualTo("s3://my-ckpts/runs at http://127.0.0.1:9000");
        }
        assertThatThrownBy(() -> new S3CheckpointSourceProvider().create(env(Map.of("SKYDECK_S3_BUCKET", "UPPER"))))
                .isInstanceOf(SkyDeckException.InvalidInput.class).hasMessageContaining("SKYDECK_S3_BUCKET");
        assertThatThrownBy(() -> new S3CheckpointSourceProvider().create(env(Map.of("SKYDECK_S3_ENDPOINT",
                "not a url"))))
                .isInstanceOf(SkyDeckException.InvalidInput.class).hasMessageContaining("SKYDECK_S3_ENDPOINT");
    }

    private static SkyDeckConfig env(Map<String, String> env) {
        return SkyDeckConfig.builder().environment(env).build();
    }
}
