package dev.skydeck.schema;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.skydeck.internal.json.Json;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JsonTest {

    @Test
    void parsesEveryKindOfValue() {
        Object value = Json.parse(" {\"s\": \"a\\\"b\\\\c\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\", \"i\": -42, \"z\": 0,"
                + " \"d\": 1.5e3, \"e\": -0.25, \"t\": true, \"f\": false, \"n\": null, \"a\": [1, [], {}],"
                + " \"o\": {\"k\": \"v\"}}\n");
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("s", "a\"b\\c/\b\f\n\r\té😀");
        expected.put("i", -42L);
        expected.put("z", 0L);
        expected.put("d", 1500.0);
        expected.put("e", -0.25);
        expected.put("t", true);
        expected.put("f", false);
        expected.put("n", null);
        expected.put("a", List.of(1L, List.of(), Map.of()));
        expected.put("o", Map.of("k", "v"));
        assertThat(value).isEqualTo(expected);
        assertThat(new ArrayList<Object>(((Map<?, ?>) value).keySet())).containsExactly("s", "i", "z", "d", "e", "t", "f", "n", "a", "o");
        assertThat(value).isInstanceOf(LinkedHashMap.class);
    }

    @Test
    void integersThatDoNotFitALongBecomeDoubles() {
        assertThat(Json.parse("9223372036854775807")).isEqualTo(Long.MAX_VALUE);
        assertThat(Json.parse("-9223372036854775808")).isEqualTo(Long.MIN_VALUE);
        assertThat(Json.parse("9223372036854775808")).isEqualTo(9.223372036854775808e18);
        assertThat(Json.parse("1.0")).isEqualTo(1.0);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "`` | expected a value but found the end of the document at line 1, column 1 (offset 0)",
        "`{\"a\": 1,}` | expected a string key but found '}' at line 1, column 9 (offset 8)",
        "`[1, 2,]` | expected a value but found ']' at line 1, column 7 (offset 6)",
        "`{'a': 1}` | expected a string key but found ''' at line 1, column 2 (offset 1)",
        "`// c\n1` | expected a value but found '/' at line 1, column 1 (offset 0)",
        "`NaN` | expected a value but found 'N' at line 1, column 1 (offset 0)",
        "`[Infinity]` | expected a value but found 'I' at line 1, column 2 (offset 1)",
        "`01` | leading zeros are not allowed in numbers at line 1, column 2 (offset 1)",
        "`-` | expected a digit but found the end of the document at line 1, column 2 (offset 1)",
        "`1.` | expected a digit after '.' but found the end of the document at line 1, column 3 (offset 2)",
        "`.5` | expected a value but found '.' at line 1, column 1 (offset 0)",
        "`+1` | expected a value but found '+' at line 1, column 1 (offset 0)",
        "`1e` | expected a digit in the exponent but found the end of the document at line 1, column 3 (offset 2)",
        "`1e999` | number 1e999 is too large at line 1, column 1 (offset 0)",
        "`{\"a\": 1, \"a\": 2}` | duplicate key \"a\" at line 1, column 10 (offset 9)",
        "`\"abc` | unterminated string starting at line 1, column 1 (offset 0)",
        "`\"a\\x\"` | invalid escape \\x at line 1, column 3 (offset 2)",
        "`\"\\u12g4\"` | invalid \\u escape: expected 4 hex digits at line 1, column 2 (offset 1)",
        "`{\"a\" 1}` | expected ':' but found '1' at line 1, column 6 (offset 5)",
        "`[1 2]` | expected ',' or ']' but found '2' at line 1, column 4 (offset 3)",
        "`{\"a\": 1 \"b\": 2}` | expected ',' or '}' but found '\"' at line 1, column 9 (offset 8)",
        "`true false` | expected the end of the document but found 'f' at line 1, column 6 (offset 5)",
        "`tru` | expected a value but found 't' at line 1, column 1 (offset 0)",
        "`{\n  \"a\": [\n    1,\n    x` | expected a value but found 'x' at line 4, column 5 (offset 22)",
        "`\"١\"1` | expected the end of the document but found '1' at line 1, column 4 (offset 3)",
    })
    void refusesBadInputNamingWhatAndWhere(String text, String message) {
        String json = text.replace("\\n", "\n");
        assertThatThrownBy(() -> Json.parse(json))
                .isInstanceOf(Json.SyntaxError.class)
                .hasMessage(message);
    }

    @Test
    void refusesRawControlCharactersInStrings() {
        assertThatThrownBy(() -> Json.parse("\"a\nb\""))
                .isInstanceOf(Json.SyntaxError.class)
                .hasMessage("control character U+000A must be escaped in a string at line 1, column 3 (offset 2)");
    }

    @Test
    void refusesNonAsciiDigits() {
        assertThatThrownBy(() -> Json.parse("١")).isInstanceOf(Json.SyntaxError.class);
        assertThatThrownBy(() -> Json.parse("1١")).isInstanceOf(Json.SyntaxError.class);
    }

    @Test
    void refusesNestingDeeperThanTheLimitInsteadOfOverflowingTheStack() {
        String deep = "[".repeat(100_000);
        assertThatThrownBy(() -> Json.parse(deep))
                .isInstanceOf(Json.SyntaxError.class)
                .hasMessageContaining("nesting deeper than " + Json.MAX_DEPTH);
        String ok = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        assertThat(Json.parse(ok)).isInstanceOf(List.class);
    }

    @Test
    void writesCompactJsonWithEscapes() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("s", "q\"b\\n\n\t\u0001\u007f\u2028é😀</script>");
        map.put("l", 5L);
        map.put("i", 3);
        map.put("d", 0.1);
        map.put("b", true);
        map.put("n", null);
        map.put("a", List.of(1L, "x"));
        assertThat(Json.write(map)).isEqualTo("{\"s\":\"q\\\"b\\\\n\\n\\t\\u0001\\u007f\\u2028é😀</script>\","
                + "\"l\":5,\"i\":3,\"d\":0.1,\"b\":true,\"n\":null,\"a\":[1,\"x\"]}");
    }

    @Test
    void writesLoneSurrogatesAsEscapes() {
        assertThat(Json.write("a\ud800b\udc00")).isEqualTo("\"a\\ud800b\\udc00\"");
        assertThat(Json.parse(Json.write("a\ud800b"))).isEqualTo("a\ud800b");
    }

    @Test
    void refusesWhatJsonCannotHold() {
        assertThatThrownBy(() -> Json.write(Double.NaN)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("NaN");
        assertThatThrownBy(() -> Json.write(Map.of(1, 2))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keys must be strings");
        assertThatThrownBy(() -> Json.write(new Object())).isInstanceOf(IllegalArgumentException.class);
        List<Object> cycle = new ArrayList<>();
        cycle.add(cycle);
        assertThatThrownBy(() -> Json.write(cycle)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("a cycle?");
    }

    @Test
    void whatIsWrittenReadsBackEqual() {
        Random random = new Random(11);
        for (int i = 0; i < 500; i++) {
            Object value = randomValue(random, 0);
            assertThat(Json.parse(Json.write(value))).isEqualTo(value);
        }
    }

    private static Object randomValue(Random random, int depth) {
        int kind = random.nextInt(depth > 3 ? 5 : 7);
        return switch (kind) {
            case 0 -> null;
            case 1 -> random.nextBoolean();
            case 2 -> random.nextLong();
            case 3 -> {
                double d = Double.longBitsToDouble(random.nextLong());
                yield Double.isFinite(d) ? d : 0.5;
            }
            case 4 -> randomString(random);
            case 5 -> {
                List<Object> list = new ArrayList<>();
                for (int i = random.nextInt(4); i > 0; i--) {
                    list.add(randomValue(random, depth + 1));
                }
                yield list;
            }
            default -> {
                Map<String, Object> map = new LinkedHashMap<>();
                for (int i = random.nextInt(4); i > 0; i--) {
                    map.put(randomString(random), randomValue(random, depth + 1));
                }
                yield map;
            }
        };
    }

    private static String randomString(Random random) {
        char[] chars = new char[random.nextInt(10)];
        for (int i = 0; i < chars.length; i++) {
            chars[i] = random.nextInt(4) == 0 ? (char) random.nextInt(0x10000) : "ab\"\\/\n é".charAt(random.nextInt(8));
        }
        return new String(chars);
    }

    @Test
    void writesNullsInsideLists() {
        assertThat(Json.write(Arrays.asList(1, null))).isEqualTo("[1,null]");
    }
}
