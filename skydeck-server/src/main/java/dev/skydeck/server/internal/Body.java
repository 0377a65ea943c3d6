package dev.skydeck.server.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * A JSON object from a request, read strictly: every getter checks the type and names the field
 * in its error, and {@link #finish()} refuses fields nobody asked for (a typo must not be
 * silently ignored).
 */
public final class Body {
    private final JsonNode node;
    private final String path;
    private final Set<String> read = new LinkedHashSet<>();

    private Body(JsonNode node, String path) {
        this.node = node;
        this.path = path;
    }

    /** The request body, which must be a JSON object. */
    public static Body parse(byte[] bytes) {
        return object(Json.parse(bytes), "the request body");
    }

    /** An empty body for requests that may have none. */
    public static Body parseOrEmpty(byte[] bytes) {
        return bytes.length == 0 ? object(Json.MAPPER.createObjectNode(), "the request body") : parse(bytes);
    }

    private static Body object(JsonNode node, String what) {
        if (!node.isObject()) {
            throw ApiException.badRequest(what + " must be a JSON object, not " + kind(node));
        }
        return new Body(node, what.equals("the request body") ? "" : what + ".");
    }

    /** Whether the field is present (even as {@code null}). */
    public boolean has(String field) {
        read.add(field);
        return node.has(field);
    }

    /** A required string. */
    public String text(String field) {
        String v = optText(field);
        if (v == null) {
            throw missing(field, "a string");
        }
        return v;
    }

    /** An optional string ({@code null} when absent or null). */
    public String optText(String field) {
        JsonNode v = get(field);
        if (v == null) {
            return null;
        }
        if (!v.isTextual()) {
            throw wrongType(field, "a string", v);
        }
        return v.textValue();
    }

    /** An optional integer within int range. */
    public Integer optInt(String field) {
        Long v = optLong(field);
        if (v == null) {
            return null;
        }
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw ApiException.badRequest("field '" + path + field + "' is out of range: " + v);
        }
        return v.intValue();
    }

    /** An optional integer. */
    public Long optLong(String field) {
        JsonNode v = get(field);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw wrongType(field, "an integer", v);
        }
        return v.longValue();
    }

    /** An optional boolean. */
    public Boolean optBool(String field) {
        JsonNode v = get(field);
        if (v == null) {
            return null;
        }
        if (!v.isBoolean()) {
            throw wrongType(field, "true or false", v);
        }
        return v.booleanValue();
    }

    /** A required enum value, matched without regard to case. */
    public <E extends Enum<E>> E enumValue(String field, Class<E> type) {
        E v = optEnum(field, type);
        if (v == null) {
            throw missing(field, "one of " + names(type));
        }
        return v;
    }

    /** An optional enum value, matched without regard to case. */
    public <E extends Enum<E>> E optEnum(String field, Class<E> type) {
        String v = optText(field);
        return v == null ? null : parseEnum(path + field, v, type);
    }

    /** Parses an enum value or says which values there are. */
    public static <E extends Enum<E>> E parseEnum(String what, String value, Class<E> type) {
        try {
            return Enum.valueOf(type, value.strip().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("'" + value + "' is not a valid " + what + ": use one of " + names(type));
        }
    }

    private static <E extends Enum<E>> String names(Class<E> type) {
        return Arrays.stream(type.getEnumConstants()).map(Enum::name).collect(Collectors.joining(", "));
    }

    /** An optional nested object. */
    public Body optObject(String field) {
        JsonNode v = get(field);
        if (v == null) {
            return null;
        }
        if (!v.isObject()) {
            throw wrongType(field, "an object", v);
        }
        return new Body(v, path + field + ".");
    }

    /** A required list of objects, each read as a {@code Body}. */
    public List<Body> objects(String field) {
        JsonNode v = get(field);
        if (v == null || !v.isArray()) {
            throw v == null ? missing(field, "a list of objects") : wrongType(field, "a list of objects", v);
        }
        List<Body> out = new ArrayList<>(v.size());
        int i = 0;
        for (JsonNode item : v) {
            String where = path + field + "[" + i++ + "]";
            if (!item.isObject()) {
                throw ApiException.badRequest("'" + where + "' must be an object, not " + kind(item));
            }
            out.add(new Body(item, where + "."));
        }
        return out;
    }

    /** An optional list of strings. */
    public List<String> optStrings(String field) {
        JsonNode v = get(field);
        if (v == null) {
            return null;
        }
        if (!v.isArray()) {
            throw wrongType(field, "a list of strings", v);
        }
        List<String> out = new ArrayList<>(v.size());
        for (JsonNode item : v) {
            if (!item.isTextual()) {
                throw ApiException.badRequest("field '" + path + field + "' must hold only strings, not " + kind(item));
            }
            out.add(item.textValue());
        }
        return out;
    }

    /** A required list of integer ids. */
    public List<Long> ids(String field) {
        JsonNode v = get(field);
        if (v == null) {
            throw missing(field, "a list of ids");
        }
        if (!v.isArray()) {
            throw wrongType(field, "a list of ids", v);
        }
        List<Long> out = new ArrayList<>(v.size());
        for (JsonNode item : v) {
            if (!item.isIntegralNumber() || !item.canConvertToLong()) {
                throw ApiException.badRequest("field '" + path + field + "' must hold only integer ids, not " + kind(item));
            }
            out.add(item.longValue());
        }
        return out;
    }

    /**
     * A required list of experiment references: ids (JSON integers) come back as {@code "#<id>"},
     * names (JSON strings, even all digits) as they are.
     */
    public List<String> refs(String field) {
        JsonNode v = get(field);
        if (v == null) {
            throw missing(field, "a list of experiment ids or names");
        }
        if (!v.isArray()) {
            throw wrongType(field, "a list of experiment ids or names", v);
        }
        List<String> out = new ArrayList<>(v.size());
        for (JsonNode item : v) {
            if (item.isIntegralNumber() && item.canConvertToLong()) {
                out.add("#" + item.longValue());
            } else if (item.isTextual()) {
                out.add(item.textValue());
            } else {
                throw ApiException.badRequest("field '" + path + field
                        + "' must hold experiment ids or names, not " + kind(item));
            }
        }
        return out;
    }

    /** An optional flat object of scalar flag values (strings, integers, decimals, booleans). */
    public Map<String, Object> optFlags(String field) {
        JsonNode v = get(field);
        if (v == null) {
            return null;
        }
        if (!v.isObject()) {
            throw wrongType(field, "an object of flag values", v);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (var it = v.fields(); it.hasNext(); ) {
            var entry = it.next();
            JsonNode value = entry.getValue();
            if (value.isIntegralNumber() && !value.canConvertToLong()) {
                throw ApiException.badRequest("flag '" + entry.getKey() + "' = " + value + " is out of range: whole"
                        + " numbers must fit in 64 bits (-9223372036854775808 to 9223372036854775807); send a"
                        + " decimal (" + value + ".0) or a string instead");
            }
            Object scalar = switch (value.getNodeType()) {
                case STRING -> value.textValue();
                case BOOLEAN -> value.booleanValue();
                case NUMBER -> value.isIntegralNumber() ? (Object) value.longValue() : (Object) value.doubleValue();
                default -> throw ApiException.badRequest("flag '" + entry.getKey() + "' must be a string, number or "
                        + "boolean, not " + kind(value));
            };
            out.put(entry.getKey(), scalar);
        }
        return out;
    }

    /** A field as raw JSON, for values stored as they are. */
    public JsonNode raw(String field) {
        return get(field);
    }

    /** Refuses any field no getter asked for. */
    public Body finish() {
        Set<String> unknown = new TreeSet<>();
        node.fieldNames().forEachRemaining(f -> {
            if (!read.contains(f)) {
                unknown.add(f);
            }
        });
        if (!unknown.isEmpty()) {
            throw ApiException.badRequest("unknown field" + (unknown.size() > 1 ? "s " : " ")
                    + unknown.stream().map(f -> "'" + path + f + "'").collect(Collectors.joining(", "))
                    + (read.isEmpty() ? "" : " (known: " + String.join(", ", read) + ")"));
        }
        return this;
    }

    private JsonNode get(String field) {
        read.add(field);
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v;
    }

    private ApiException missing(String field, String what) {
        return ApiException.badRequest("field '" + path + field + "' is required: " + what);
    }

    private ApiException wrongType(String field, String expected, JsonNode v) {
        return ApiException.badRequest("field '" + path + field + "' must be " + expected + ", not " + kind(v));
    }

    static String kind(JsonNode v) {
        JsonNodeType t = v.getNodeType();
        return switch (t) {
            case STRING -> "a string (\"" + abbreviate(v.textValue()) + "\")";
            case NUMBER -> "a number (" + v + ")";
            case BOOLEAN -> "a boolean (" + v + ")";
            case ARRAY -> "a list";
            case OBJECT, POJO -> "an object";
            case NULL, MISSING -> "null";
            case BINARY -> "binary data";
        };
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }
}
