package dev.skydeck.skypilot.internal;

import java.math.BigInteger;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.NodeId;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.representer.Representer;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * YAML as SkyPilot reads it: PyYAML's {@code safe_load}, YAML 1.1, where {@code yes}, {@code on}
 * and {@code off} are booleans, {@code 2026-07-01} a date, {@code 010} octal and {@code 1:30}
 * sexagesimal. {@link #load} reads config files and task templates with PyYAML's own implicit
 * resolvers (SnakeYAML with PyYAML's table; SnakeYAML alone differs on a few scalars such as
 * {@code 1e3}); {@link #dump} writes block YAML in which every string reads back as the same
 * string under those rules: a string is written plain only when PyYAML would resolve it to a
 * string, otherwise quoted.
 */
public final class PyYaml {
    /** PyYAML's {@code Resolver} ({@code yaml/resolver.py}), in its order. */
    private static final class PyYamlResolver extends Resolver {
        @Override
        protected void addImplicitResolvers() {
            addImplicitResolver(Tag.BOOL, Pattern.compile("^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE"
                    + "|on|On|ON|off|Off|OFF)$"), "yYnNtTfFoO");
            addImplicitResolver(Tag.FLOAT, Pattern.compile("^(?:[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?"
                    + "|\\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*"
                    + "|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN))$"), "-+0123456789.");
            addImplicitResolver(Tag.INT, Pattern.compile("^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)"
                    + "|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$"), "-+0123456789");
            addImplicitResolver(Tag.MERGE, Pattern.compile("^(?:<<)$"), "<");
            addImplicitResolver(Tag.NULL, Pattern.compile("^(?:~|null|Null|NULL|)$"), "~nN\0");
            addImplicitResolver(Tag.TIMESTAMP, Pattern.compile("^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
                    + "|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \\t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9]"
                    + "(?:\\.[0-9]*)?(?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$"), "0123456789");
            addImplicitResolver(new Tag("tag:yaml.org,2002:value"), Pattern.compile("^(?:=)$"), "=");
        }
    }

    private static final PyYamlResolver RESOLVER = new PyYamlResolver();
    /** Characters a plain scalar may hold here: a conservative subset of what YAML allows. */
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_./+(][A-Za-z0-9 _./+@=,:;()~$%^*-]*");

    private PyYaml() {
    }

    /**
     * Parses one document as {@code yaml.safe_load} would. Mappings keep their order; dates become
     * ISO strings (as text they are what a user meant where SkyPilot wants strings).
     *
     * @throws org.yaml.snakeyaml.error.YAMLException when it is not YAML
     */
    public static Object load(String text) {
        LoaderOptions options = new LoaderOptions();
        Object doc = new Yaml(new SafeConstructor(options), new Representer(new DumperOptions()), new DumperOptions(),
                options, RESOLVER).load(text);
        return normalize(doc);
    }

    private static Object normalize(Object v) {
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(normalize(k), normalize(x)));
            return out;
        }
        if (v instanceof List<?> l) {
            List<Object> out = new java.util.ArrayList<>(l.size());
            l.forEach(x -> out.add(normalize(x)));
            return out;
        }
        if (v instanceof Date d) {
            var t = d.toInstant().atOffset(ZoneOffset.UTC);
            return t.toLocalTime().toNanoOfDay() == 0 ? t.toLocalDate().toString()
                    : DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(t);
        }
        if (v instanceof Collection<?> c) { // !!set
            return normalize(List.copyOf(c));
        }
        return v;
    }

    /** Whether PyYAML reads this text, written plain, as something other than a string. */
    public static boolean resolvesToNonString(String s) {
        return !Tag.STR.equals(RESOLVER.resolve(NodeId.scalar, s, true));
    }

    /** Block YAML of a mapping, sequence or scalar, ending with a newline. */
    public static String dump(Object value) {
        StringBuilder out = new StringBuilder();
        if (value instanceof Map<?, ?> m && !m.isEmpty()) {
            mapping(out, m, 0);
        } else if (value instanceof List<?> l && !l.isEmpty()) {
            sequence(out, l, 0);
        } else {
            out.append(scalar(value)).append('\n');
        }
        return out.toString();
    }

    private static void mapping(StringBuilder out, Map<?, ?> map, int indent) {
        for (Map.Entry<?, ?> e : map.entrySet()) {
            out.append(" ".repeat(indent)).append(scalar(e.getKey())).append(':');
            value(out, e.getValue(), indent + 2);
        }
    }

    private static void sequence(StringBuilder out, List<?> list, int indent) {
        for (Object item : list) {
            out.append(" ".repeat(indent)).append('-');
            if (item instanceof Map<?, ?> m && !m.isEmpty()) {
                StringBuilder nested = new StringBuilder();
                mapping(nested, m, indent + 2);
                out.append(' ').append(nested, indent + 2, nested.length());
            } else if (item instanceof List<?> l && !l.isEmpty()) {
                StringBuilder nested = new StringBuilder();
                sequence(nested, l, indent + 2);
                out.append(' ').append(nested, indent + 2, nested.length());
            } else {
                value(out, item, indent + 2);
            }
        }
    }

    /** A value after {@code key:} or {@code -}. */
    private static void value(StringBuilder out, Object v, int indent) {
        if (v instanceof Map<?, ?> m && !m.isEmpty()) {
            out.append('\n');
            mapping(out, m, indent);
        } else if (v instanceof List<?> l && !l.isEmpty()) {
            out.append('\n');
            sequence(out, l, indent);
        } else if (v instanceof String s && literal(s)) {
            int trailing = 0;
            while (trailing < s.length() && s.charAt(s.length() - 1 - trailing) == '\n') {
                trailing++;
            }
            out.append(trailing == 0 ? " |-" : trailing == 1 ? " |" : " |+").append('\n');
            String body = s.substring(0, s.length() - trailing);
            for (String line : body.split("\n", -1)) {
                out.append(line.isEmpty() ? "" : " ".repeat(indent) + line).append('\n');
            }
            for (int i = 1; i < trailing; i++) {
                out.append('\n');
            }
        } else {
            out.append(' ').append(scalar(v)).append('\n');
        }
    }

    /** A multi-line string that a literal block keeps exactly: no carriage returns or trailing blanks, a plain start. */
    private static boolean literal(String s) {
        if (s.indexOf('\n') < 0 || s.isEmpty() || s.charAt(0) == ' ' || s.charAt(0) == '\t' || s.charAt(0) == '\n') {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\r' || c < 0x20 && c != '\n' && c != '\t' || c == 0x7f || c == 0x85 || c == 0xfeff
                    || c == 0x2028 || c == 0x2029) {
                return false;
            }
            if (c == '\n' && i > 0 && (s.charAt(i - 1) == ' ' || s.charAt(i - 1) == '\t')) {
                return false;
            }
        }
        char last = s.charAt(s.length() - 1);
        return last != ' ' && last != '\t';
    }

    /** One scalar, on one line. */
    static String scalar(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof Boolean b) {
            return b ? "true" : "false";
        }
        if (v instanceof Integer || v instanceof Long || v instanceof BigInteger || v instanceof Short
                || v instanceof Byte) {
            return v.toString();
        }
        if (v instanceof Double || v instanceof Float) {
            return floating(((Number) v).doubleValue());
        }
        if (v instanceof Number n) {
            return floating(n.doubleValue());
        }
        return string(v.toString());
    }

    /** A float PyYAML reads back as the same float: a dot, and a signed exponent. */
    private static String floating(double d) {
        if (Double.isNaN(d)) {
            return ".nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? ".inf" : "-.inf";
        }
        String s = Double.toString(d).replace('E', 'e');
        int e = s.indexOf('e');
        if (e > 0 && s.charAt(e + 1) != '-') {
            s = s.substring(0, e + 1) + "+" + s.substring(e + 1);
        }
        return s;
    }

    private static String string(String s) {
        boolean plain = PLAIN.matcher(s).matches() && !s.endsWith(" ") && !s.endsWith(":") && !s.contains(": ")
                && !s.contains(" #") && !resolvesToNonString(s);
        if (plain) {
            return s;
        }
        boolean control = false;
        for (int i = 0; i < s.length() && !control; i++) {
            char c = s.charAt(i);
            control = c < 0x20 || c == 0x7f || c == 0x85 || c == 0xfeff || c == 0x2028 || c == 0x2029;
        }
        if (!control) {
            return "'" + s.replace("'", "''") + "'";
        }
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                default -> {
                    if (c < 0x20 || c == 0x7f || c == 0x85 || c == 0xfeff || c == 0x2028 || c == 0x2029) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
