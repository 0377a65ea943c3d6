package dev.skydeck.jdbc.internal;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
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

    /** Reads flags with the streaming parser: this runs for every experiment row a query returns. */
    static Map<String, Object> flags(String json) {
        try (JsonParser p = MAPPER.getFactory().createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return read(json, FLAGS); // not the shape SkyDeck writes: let the slow path say why
            }
            Map<String, Object> out = new LinkedHashMap<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonToken t = p.nextToken();
                Object value = switch (t) {
                    case VALUE_STRING -> p.getText();
                    case VALUE_NUMBER_INT -> p.getLongValue();
                    case VALUE_NUMBER_FLOAT -> p.getDoubleValue();
                    case VALUE_TRUE -> Boolean.TRUE;
                    case VALUE_FALSE -> Boolean.FALSE;
                    default -> throw new SkyDeckException("the store holds a flag '" + key
                            + "' that is not a scalar: the database file may be damaged");
                };
                out.put(key, value);
            }
            return out;
        } catch (java.io.IOException e) {
            throw new SkyDeckException("the store holds JSON that cannot be read (" + e.getMessage()
                    + "): the database file may be damaged", false, e);
        }
    }

    /** One flag value written by {@link #write}: a string, a Long, a Double or a Boolean. */
    static Object scalar(String json) {
        Map<String, Object> one = flags("{\"v\":" + json + "}");
        return one.get("v");
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
            throw new SkyDeckException("the store holds JSON that cannot be read (" + e.getOriginalMessage()
                    + "): the database file may be damaged", false, e);
        }
    }
}
