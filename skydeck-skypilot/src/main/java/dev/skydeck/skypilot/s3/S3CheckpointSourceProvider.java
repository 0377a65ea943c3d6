package dev.skydeck.skypilot.s3;

import dev.skydeck.SkyDeckConfig;
import dev.skydeck.SkyDeckException;
import dev.skydeck.spi.CheckpointSource;
import dev.skydeck.spi.CheckpointSourceProvider;
import java.net.URI;
import java.util.Map;
import java.util.Optional;

/**
 * Chooses S3 for checkpoints (SPEC §8): when {@code SKYDECK_S3_BUCKET} is set, or when the
 * backend is SkyPilot (then the default bucket and prefix). Reads {@code SKYDECK_S3_BUCKET},
 * {@code SKYDECK_S3_PREFIX}, {@code SKYDECK_S3_ENDPOINT} (path-style) and {@code AWS_REGION} /
 * {@code AWS_DEFAULT_REGION}.
 */
public final class S3CheckpointSourceProvider implements CheckpointSourceProvider {
    /** A provider (used by the service loader); it reads the environment SkyDeck is configured with. */
    public S3CheckpointSourceProvider() {
    }

    @Override
    public Optional<String> detect(String backendKind, SkyDeckConfig config) {
        Map<String, String> env = config.environment();
        if (present(env, "SKYDECK_S3_BUCKET")) {
            return Optional.of("SKYDECK_S3_BUCKET is set");
        }
        if ("skypilot".equals(backendKind)) {
            return Optional.of("the backend is SkyPilot (default bucket " + S3CheckpointSource.DEFAULT_BUCKET + ")");
        }
        return Optional.empty();
    }

    @Override
    public CheckpointSource create(SkyDeckConfig config) {
        Map<String, String> env = config.environment();
        S3CheckpointSource.Builder b = S3CheckpointSource.builder();
        if (present(env, "SKYDECK_S3_BUCKET")) {
            b.bucket(env.get("SKYDECK_S3_BUCKET").strip());
        }
        if (env.get("SKYDECK_S3_PREFIX") != null) {
            b.prefix(env.get("SKYDECK_S3_PREFIX"));
        }
        String region = present(env, "AWS_REGION") ? env.get("AWS_REGION")
                : present(env, "AWS_DEFAULT_REGION") ? env.get("AWS_DEFAULT_REGION") : null;
        if (present(env, "SKYDECK_S3_ENDPOINT")) {
            String raw = env.get("SKYDECK_S3_ENDPOINT").strip();
            try {
                b.endpoint(URI.create(raw));
            } catch (IllegalArgumentException e) {
                throw new SkyDeckException.InvalidInput("SKYDECK_S3_ENDPOINT=" + raw + " is not a URL: " + e.getMessage());
            }
            if (region == null) {
                region = "auto"; // what R2 expects; MinIO accepts any region
            }
        }
        if (region != null) {
            b.region(region.strip());
        }
        try {
            return b.build();
        } catch (SkyDeckException.InvalidInput e) {
            throw new SkyDeckException.InvalidInput(e.getMessage() + " (from SKYDECK_S3_BUCKET / SKYDECK_S3_PREFIX / "
                    + "SKYDECK_S3_ENDPOINT)");
        }
    }

    private static boolean present(Map<String, String> env, String name) {
        String v = env.get(name);
        return v != null && !v.isBlank();
    }
}
