package dev.skydeck.sqlite.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.skydeck.SkyDeckException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Flags and string lists as JSON text. Whole numbers read back as {@link Long} and decimals as
 * {@link Double} (Jackson writes a double with a fraction or exponent, so {@code 4.0} stays a
 * double); objects keep their key order.
 */
final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.USE_LONG_FOR_INTS);
    private static final TypeReference<LinkedHashMap<String, Object>> FLAGS = new TypeReference<>() {
    };
    private static final TypeReference<List<String>> STRINGS = new TypeReference<>() {
    };
    private static final TypeReference<List<Long>> LONGS = new TypeReference<>() {
    };

    private Json() {
    }

    static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new SkyDeckException("cannot store " + value.getClass().getSimpleName() + " as JSON: "
                    + e.getOriginalMessage(), false, e);
        }
    }

    static Map<String, Object> flags(String json) {
        return read(json, FLAGS);
    }

    static List<String> strings(String json) {
        return read(json, STRINGS);
    }

    static List<Long> longs(String json) {
        return read(json, LONGS);
    }

    private static <T> T read(String json, TypeReference<T> type) {
        try {
            return MAPPER.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new SkyDeckException("the SQLite store holds JSON that cannot be read (" + e.getOriginalMessage()
                    + "): the database file may be damaged", false, e);
        }
    }
}
