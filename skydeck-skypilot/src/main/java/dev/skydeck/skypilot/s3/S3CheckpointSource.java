package dev.skydeck.skypilot.s3;

import dev.skydeck.SkyDeckException;
import dev.skydeck.spi.CheckpointObject;
import dev.skydeck.spi.CheckpointSource;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Checkpoints in S3 or an S3-compatible store (Cloudflare R2, MinIO): lists
 * {@code s3://<bucket>/<prefix>/<experiment name>/} with ListObjectsV2 and its paginator. Epochs,
 * policy versions and replays are parsed by SkyDeck from the object names (SPEC §8).
 *
 * <pre>{@code
 * CheckpointSource s3 = S3CheckpointSource.builder()
 *         .bucket("softmax-public").prefix("policies")
 *         .endpoint(URI.create("https://<account>.r2.cloudflarestorage.com"))   // optional
 *         .build();
 * SkyDeck deck = SkyDeck.builder().checkpoints(s3).build();
 * }</pre>
 *
 * <p>Credentials and region come from the AWS default chain unless given. Thread-safe.
 */
public final class S3CheckpointSource implements CheckpointSource {
    /** The bucket used when none is configured. */
    public static final String DEFAULT_BUCKET = "softmax-public";
    /** The prefix used when none is configured. */
    public static final String DEFAULT_PREFIX = "policies";

    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

    private final S3Client client;
    private final String bucket;
    private final String prefix;
    private final String endpointNote;

    private S3CheckpointSource(Builder b) {
        this.bucket = b.bucket;
        this.prefix = b.prefix;
        this.endpointNote = b.endpoint == null ? "" : " at " + b.endpoint;
        var s3 = S3Client.builder()
                .httpClient(UrlConnectionHttpClient.builder()
                        .connectionTimeout(b.connectTimeout)
                        .socketTimeout(b.readTimeout)
                        .build())
                .region(Region.of(b.region))
                .credentialsProvider(b.credentials != null ? b.credentials : DefaultCredentialsProvider.builder().build())
                // Plain, unsigned-payload-free requests that S3-compatible stores accept.
                .serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(false).build())
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .overrideConfiguration(ClientOverrideConfiguration.builder().apiCallTimeout(b.callTimeout).build());
        if (b.endpoint != null) {
            s3.endpointOverride(b.endpoint).forcePathStyle(true);
        }
        this.client = s3.build();
    }

    /** A builder with the defaults: bucket {@value #DEFAULT_BUCKET}, prefix {@value #DEFAULT_PREFIX}. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String describe() {
        return "s3://" + bucket + "/" + prefix + endpointNote;
    }

    /** The bucket. */
    public String bucket() {
        return bucket;
    }

    /** The prefix (without slashes at either end; may be empty). */
    public String prefix() {
        return prefix;
    }

    @Override
    public List<CheckpointObject> list(String experimentName) {
        String base = (prefix.isEmpty() ? "" : prefix + "/") + experimentName + "/";
        ListObjectsV2Request request = ListObjectsV2Request.builder().bucket(bucket).prefix(base).build();
        List<CheckpointObject> out = new ArrayList<>();
        try {
            for (S3Object o : client.listObjectsV2Paginator(request).contents()) {
                if (o.key().endsWith("/")) {
                    continue; // a "folder" marker, not an object
                }
                out.add(new CheckpointObject("s3://" + bucket + "/" + o.key(), o.key().substring(base.length()),
                        o.size() == null ? 0 : o.size(), o.lastModified()));
            }
        } catch (NoSuchBucketException e) {
            throw new SkyDeckException("S3 bucket '" + bucket + "'" + endpointNote
                    + " does not exist: check SKYDECK_S3_BUCKET (and SKYDECK_S3_ENDPOINT for R2 or MinIO)", false, e);
        } catch (S3Exception e) {
            throw translate(e, base);
        } catch (SdkClientException e) {
            String message = String.valueOf(e.getMessage());
            if (message.contains("credentials")) {
                throw new SkyDeckException("no AWS credentials to list s3://" + bucket + "/" + base
                        + ": set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE", false, e);
            }
            throw new SkyDeckException("listing s3://" + bucket + "/" + base + endpointNote + " failed: "
                    + firstLine(message), true, e);
        } catch (SdkException e) {
            throw new SkyDeckException("listing s3://" + bucket + "/" + base + " failed: " + firstLine(e.getMessage()),
                    e.retryable(), e);
        }
        return out;
    }

    private SkyDeckException translate(S3Exception e, String base) {
        String where = "s3://" + bucket + "/" + base + endpointNote;
        String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
        int status = e.statusCode();
        if (status == 403 || "AccessDenied".equals(code)) {
            return new SkyDeckException("access to " + where + " was denied (" + code
                    + "): check the AWS credentials SkyDeck uses and that they may s3:ListBucket on '" + bucket + "'",
                    false, e);
        }
        if (status == 503 || status >= 500 || "SlowDown".equals(code) || status == 429) {
            return new SkyDeckException("S3 is throttling or unavailable for " + where + " (" + status + " " + code
                    + "); SkyDeck retries with backoff", true, e);
        }
        return new SkyDeckException("listing " + where + " failed: " + status + " " + code + ": "
                + firstLine(e.getMessage()), false, e);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "(no message)";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    @Override
    public void close() {
        client.close();
    }

    /** Options of an {@link S3CheckpointSource}; validated by {@link #build()}. */
    public static final class Builder {
        private String bucket = DEFAULT_BUCKET;
        private String prefix = DEFAULT_PREFIX;
        private String region = "us-east-1";
        private URI endpoint;
        private AwsCredentialsProvider credentials;
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration readTimeout = Duration.ofSeconds(30);
        private Duration callTimeout = Duration.ofMinutes(2);

        private Builder() {
        }

        /** The bucket (default {@value #DEFAULT_BUCKET}). */
        public Builder bucket(String value) {
            this.bucket = Objects.requireNonNull(value, "bucket");
            return this;
        }

        /** The prefix under which each experiment has a folder (default {@value #DEFAULT_PREFIX}; may be empty). */
        public Builder prefix(String value) {
            this.prefix = Objects.requireNonNull(value, "prefix");
            return this;
        }

        /** The region (default {@code us-east-1}; {@code auto} for Cloudflare R2). */
        public Builder region(String value) {
            this.region = Objects.requireNonNull(value, "region");
            return this;
        }

        /** An S3-compatible endpoint (R2, MinIO); implies path-style addressing. */
        public Builder endpoint(URI value) {
            this.endpoint = value;
            return this;
        }

        /** Credentials (default: the AWS default chain). */
        public Builder credentials(AwsCredentialsProvider value) {
            this.credentials = value;
            return this;
        }

        /** Connect and read timeouts of each HTTP request. */
        public Builder timeouts(Duration connect, Duration read) {
            this.connectTimeout = Objects.requireNonNull(connect, "connect");
            this.readTimeout = Objects.requireNonNull(read, "read");
            return this;
        }

        /** The limit on one listing call including the SDK's retries (default 2 min). */
        public Builder callTimeout(Duration value) {
            this.callTimeout = Objects.requireNonNull(value, "callTimeout");
            return this;
        }

        /**
         * Validates the options and creates the client.
         *
         * @throws SkyDeckException.InvalidInput naming the bad option
         */
        public S3CheckpointSource build() {
            if (!BUCKET.matcher(bucket).matches() || bucket.contains("..")) {
                throw new SkyDeckException.InvalidInput("S3 bucket '" + bucket
                        + "' is not allowed: 3 to 63 lowercase letters, digits, '.' or '-'");
            }
            String p = prefix.strip();
            while (p.startsWith("/")) {
                p = p.substring(1);
            }
            while (p.endsWith("/")) {
                p = p.substring(0, p.length() - 1);
            }
            if (p.length() > 512 || p.chars().anyMatch(c -> c < 0x20)) {
                throw new SkyDeckException.InvalidInput("S3 prefix '" + prefix + "' is not allowed: at most 512 "
                        + "characters without control characters");
            }
            prefix = p;
            if (region.isBlank()) {
                throw new SkyDeckException.InvalidInput("S3 region must not be blank");
            }
            if (endpoint != null && (endpoint.getScheme() == null || !endpoint.getScheme().startsWith("http")
                    || endpoint.getHost() == null)) {
                throw new SkyDeckException.InvalidInput("S3 endpoint '" + endpoint
                        + "' is not allowed: use an http(s) URL such as https://<account>.r2.cloudflarestorage.com");
            }
            return new S3CheckpointSource(this);
        }
    }
}
