package dev.skydeck.server.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.io.UncheckedIOException;

/** The one JSON mapper of the API: snake_case, ISO-8601 UTC times, strict reading. */
public final class Json {
    /**
     * Doubles as the command line writes them (Python's {@code repr}: {@code 3.0}, {@code 1e-05}):
     * a decimal stays a decimal on the wire, and a client shows exactly what the job runs with.
     */
    private static final com.fasterxml.jackson.databind.module.SimpleModule DOUBLES =
            new com.fasterxml.jackson.databind.module.SimpleModule("skydeck-doubles")
                    .addSerializer(Double.class, new com.fasterxml.jackson.databind.ser.std.StdSerializer<>(Double.class) {
                        @Override
                        public void serialize(Double d, com.fasterxml.jackson.core.JsonGenerator gen,
                                              com.fasterxml.jackson.databind.SerializerProvider p) throws IOException {
                            if (Double.isFinite(d)) {
                                gen.writeNumber(dev.skydeck.CommandLine.format(d));
                            } else {
                                gen.writeNull();
                            }
                        }
                    });

    /** The shared mapper (thread-safe once configured). */
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .addModule(new JavaTimeModule())
            .addModule(DOUBLES)
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    /**
     * The mapper of list items ({@code GET /api/experiments}, {@code GET /api/groups}): as
     * {@link #MAPPER}, but a field is left out when it is {@code null}, {@code false}, {@code 0} of
     * a number that cannot be null, or an empty string, array or object. What is left out is
     * exactly its default, so a client restores it without asking; values inside {@code flags}
     * are never left out. {@code ?fields=full} writes with {@link #MAPPER}.
     */
    public static final ObjectMapper LIST = MAPPER.copy()
            .setDefaultPropertyInclusion(com.fasterxml.jackson.annotation.JsonInclude.Value.construct(
                    com.fasterxml.jackson.annotation.JsonInclude.Include.NON_EMPTY,
                    com.fasterxml.jackson.annotation.JsonInclude.Include.ALWAYS))
            .setAnnotationIntrospector(new com.fasterxml.jackson.databind.introspect.JacksonAnnotationIntrospector() {
                @Override
                public com.fasterxml.jackson.annotation.JsonInclude.Value findPropertyInclusion(
                        com.fasterxml.jackson.databind.introspect.Annotated a) {
                    com.fasterxml.jackson.annotation.JsonInclude.Value v = super.findPropertyInclusion(a);
                    // false, 0: a primitive's default (its absence cannot mean null)
                    return a.getRawType().isPrimitive()
                            ? v.withValueInclusion(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_DEFAULT) : v;
                }
            });

    static {
        LIST.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(64).maxStringLength(1 << 20).maxNumberLength(64).build());
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(64).maxStringLength(1 << 20).maxNumberLength(64).build());
    }

    private Json() {
    }

    /** {@code value} as JSON bytes. */
    public static byte[] bytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON for " + value.getClass().getSimpleName(), e);
        }
    }

    /** {@code value} as a JSON string. */
    public static String string(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON for " + value.getClass().getSimpleName(), e);
        }
    }

    /**
     * Refuses a string or field name with half of a UTF-16 surrogate pair ({@code "\\ud800"} alone):
     * it is no character, the database would keep it as {@code ?}, and what is read back would
     * differ from what was sent.
     */
    private static void refuseLoneSurrogates(JsonNode node, String where) {
        if (node.isTextual()) {
            int at = loneSurrogate(node.textValue());
            if (at >= 0) {
                throw ApiException.badRequest("malformed JSON: the string" + (where.isEmpty() ? "" : " at '" + where + "'")
                        + " has a lone UTF-16 surrogate (\\u" + Integer.toHexString(node.textValue().charAt(at))
                        + ") at character " + at + ": send whole characters (a high and a low surrogate together)");
            }
        } else if (node.isObject()) {
            var fields = node.fields();
            while (fields.hasNext()) {
                var f = fields.next();
                String path = where.isEmpty() ? f.getKey() : where + "." + f.getKey();
                int at = loneSurrogate(f.getKey());
                if (at >= 0) {
                    throw ApiException.badRequest("malformed JSON: a field name" + (where.isEmpty() ? "" : " in '" + where + "'")
                            + " has a lone UTF-16 surrogate (\\u" + Integer.toHexString(f.getKey().charAt(at))
                            + "): send whole characters");
                }
                refuseLoneSurrogates(f.getValue(), path);
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                refuseLoneSurrogates(node.get(i), where + "[" + i + "]");
            }
        }
    }

    /** The index of the first unpaired surrogate in {@code s}, or -1. */
    static int loneSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }

    /** Parses a request body, or throws a 400 that says where the JSON is broken. */
    public static JsonNode parse(byte[] body) {
        if (body.length == 0) {
            throw ApiException.badRequest("the request body is empty: send a JSON object");
        }
        try {
            JsonNode node = MAPPER.readTree(body);
            refuseLoneSurrogates(node, "");
            return node;
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("malformed JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ")"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
