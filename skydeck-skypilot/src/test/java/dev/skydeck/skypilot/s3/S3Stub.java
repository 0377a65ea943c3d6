package dev.skydeck.skypilot.s3;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.MappingBuilder;
import java.net.URI;
import java.time.Instant;
import java.util.List;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/** WireMock stubs answering like S3's ListObjectsV2 (path-style), in S3's own XML. */
final class S3Stub {
    /** One object of a listing. */
    record Obj(String key, long size, Instant lastModified) {
    }

    private final WireMockServer server;

    S3Stub(WireMockServer server) {
        this.server = server;
    }

    /** A source pointed at the stub, with static credentials and a fixed region. */
    S3CheckpointSource source(String bucket, String prefix) {
        return S3CheckpointSource.builder().bucket(bucket).prefix(prefix).region("us-east-1")
                .endpoint(URI.create("http://127.0.0.1:" + server.port()))
                .credentials(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDTEST", "secret-test")))
                .build();
    }

    /**
     * Stubs one page of {@code GET /<bucket>?list-type=2&prefix=<prefix>} (the page after
     * {@code token}, or the first when {@code null}); {@code next} makes it truncated.
     */
    void page(String bucket, String prefix, String token, String next, List<Obj> objects, List<String> commonPrefixes) {
        MappingBuilder m = get(urlPathEqualTo("/" + bucket)).withQueryParam("list-type", equalTo("2"))
                .withQueryParam("prefix", equalTo(prefix));
        if (token != null) {
            m = m.withQueryParam("continuation-token", equalTo(token));
        } else {
            m = m.withQueryParam("continuation-token", com.github.tomakehurst.wiremock.client.WireMock.absent());
        }
        server.stubFor(m.willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/xml")
                .withHeader("x-amz-request-id", "TESTREQUEST").withBody(listing(bucket, prefix, token, next, objects,
                        commonPrefixes))));
    }

    /** Stubs an S3 error for any listing of the bucket. */
    void error(String bucket, int status, String code, String message) {
        server.stubFor(get(urlPathEqualTo("/" + bucket)).willReturn(aResponse().withStatus(status)
                .withHeader("Content-Type", "application/xml").withHeader("x-amz-request-id", "TESTREQUEST")
                .withBody("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>"
                        + message + "</Message><BucketName>" + bucket + "</BucketName><RequestId>TESTREQUEST"
                        + "</RequestId><HostId>dGVzdA==</HostId></Error>")));
    }

    static String listing(String bucket, String prefix, String token, String next, List<Obj> objects,
                          List<String> commonPrefixes) {
        StringBuilder xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
                .append("<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">")
                .append("<Name>").append(bucket).append("</Name>")
                .append("<Prefix>").append(xml(prefix)).append("</Prefix>")
                .append("<KeyCount>").append(objects.size() + commonPrefixes.size()).append("</KeyCount>")
                .append("<MaxKeys>1000</MaxKeys>")
                .append("<IsTruncated>").append(next != null).append("</IsTruncated>");
        if (token != null) {
            xml.append("<ContinuationToken>").append(token).append("</ContinuationToken>");
        }
        if (next != null) {
            xml.append("<NextContinuationToken>").append(next).append("</NextContinuationToken>");
        }
        for (Obj o : objects) {
            xml.append("<Contents><Key>").append(xml(o.key())).append("</Key><LastModified>")
                    .append(o.lastModified()).append("</LastModified><ETag>&quot;")
                    .append(Integer.toHexString(o.key().hashCode())).append("&quot;</ETag><Size>").append(o.size())
                    .append("</Size><StorageClass>STANDARD</StorageClass></Contents>");
        }
        for (String p : commonPrefixes) {
            xml.append("<CommonPrefixes><Prefix>").append(xml(p)).append("</Prefix></CommonPrefixes>");
        }
        return xml.append("</ListBucketResult>").toString();
    }

    /**
     * A key as S3 writes it when the request asked for no encoding-type (the SDK asks for none):
     * the raw characters, XML-escaped.
     */
    static String xml(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;")
                .replace("'", "&apos;");
    }
}
