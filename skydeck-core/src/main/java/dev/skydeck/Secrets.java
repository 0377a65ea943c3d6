package dev.skydeck;

import java.io.IOException;
import java.io.Reader;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The secrets this process knows, and the scrubbing of them from text: job logs served through
 * {@link SkyDeck#logs}, SkyDeck's own log lines. A secret is the value of an environment variable
 * whose name says it is one ({@link #isSecretName}), the password of a URL in the environment
 * ({@code postgresql://user:pw@host}, {@code ?password=pw}), or a value registered by the code
 * that read it (a configured token, a cookie). Each occurrence becomes {@value #MARKER}.
 *
 * <p>This process's environment is read once, on first use. Values shorter than
 * {@value #MIN_LENGTH} characters are not scrubbed (they would mangle ordinary text). Thread-safe.
 */
public final class Secrets {
    /** What a secret is replaced with. */
    public static final String MARKER = "[redacted]";
    /** The shortest value scrubbed. */
    public static final int MIN_LENGTH = 6;

    private static final Pattern SECRET_NAME = Pattern.compile(
            ".*(TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|KEY|CREDENTIAL|COOKIE|SESSION|AUTH|PRIVATE|SIGNATURE).*"
                    + "|AWS_.*|PGPASS.*|.*_PW|.*_PWD");
    private static final Pattern URL_PASSWORD = Pattern.compile("://[^/:@\\s]*:([^@\\s/]+)@");
    private static final Pattern PARAM_PASSWORD = Pattern.compile("(?i)[?&;](?:password|pwd|secret|token)=([^&;\\s]+)");
    private static final Object LOCK = new Object();
    private static volatile String[] known;

    private Secrets() {
    }

    /**
     * Whether an environment variable of this name holds a secret: its name contains {@code TOKEN},
     * {@code SECRET}, {@code PASSWORD}, {@code KEY}, {@code CREDENTIAL}, {@code COOKIE},
     * {@code AUTH} and the like, or starts with {@code AWS_} or {@code PGPASS}.
     */
    public static boolean isSecretName(String name) {
        return name != null && SECRET_NAME.matcher(name.toUpperCase(Locale.ROOT)).matches();
    }

    /** Remembers {@code value} as a secret to scrub from now on; {@code null} and short values are ignored. */
    public static void register(String value) {
        if (value == null || value.strip().length() < MIN_LENGTH) {
            return;
        }
        synchronized (LOCK) {
            Set<String> all = new LinkedHashSet<>(List.of(values()));
            if (all.add(value.strip())) {
                known = sorted(all);
            }
        }
    }

    /** Remembers the secrets of an environment: the values of secret variables and passwords in URLs. */
    public static void registerEnvironment(Map<String, String> env) {
        for (String value : secretsOf(env)) {
            register(value);
        }
    }

    /** {@code text} with every known secret replaced by {@value #MARKER}; {@code null} stays {@code null}. */
    public static String redact(String text) {
        if (text == null || text.isEmpty()) {
            return text;
        }
        String out = text;
        for (String secret : values()) {
            if (out.contains(secret)) {
                out = out.replace(secret, MARKER);
            }
        }
        return out;
    }

    /**
     * A reader over {@code in} that scrubs every known secret. Complete lines pass at once; the end
     * of an unfinished line is held back only as long as a secret could still be arriving.
     */
    public static Reader redacting(Reader in) {
        return new RedactingReader(Objects.requireNonNull(in, "in"));
    }

    /** The secret values in {@code env}, without registering them. */
    static List<String> secretsOf(Map<String, String> env) {
        List<String> out = new ArrayList<>();
        env.forEach((name, value) -> {
            if (value == null || value.isBlank()) {
                return;
            }
            if (isSecretName(name)) {
                out.add(value);
            }
            for (Pattern p : List.of(URL_PASSWORD, PARAM_PASSWORD)) {
                Matcher m = p.matcher(value);
                while (m.find()) {
                    out.add(m.group(1));
                    String decoded = URLDecoder.decode(m.group(1), StandardCharsets.UTF_8);
                    if (!decoded.equals(m.group(1))) {
                        out.add(decoded);
                    }
                }
            }
        });
        return out;
    }

    private static String[] values() {
        String[] v = known;
        if (v == null) {
            synchronized (LOCK) {
                if (known == null) {
                    Set<String> all = new LinkedHashSet<>();
                    for (String s : secretsOf(System.getenv())) {
                        if (s.strip().length() >= MIN_LENGTH) {
                            all.add(s.strip());
                        }
                    }
                    known = sorted(all);
                }
                v = known;
            }
        }
        return v;
    }

    /** Longest first, so that a secret containing another is replaced whole. */
    private static String[] sorted(Set<String> all) {
        return all.stream().sorted(Comparator.comparingInt(String::length).reversed()).toArray(String[]::new);
    }

    private static final class RedactingReader extends Reader {
        private final Reader in;
        private final StringBuilder pending = new StringBuilder();
        private final char[] chunk = new char[8192];
        private String ready = "";
        private int readyAt;
        private boolean eof;

        RedactingReader(Reader in) {
            this.in = in;
        }

        @Override
        public int read(char[] buf, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, buf.length);
            if (len == 0) {
                return 0;
            }
            while (readyAt == ready.length()) {
                if (eof) {
                    if (pending.isEmpty()) {
                        return -1;
                    }
                    ready = redact(pending.toString());
                    readyAt = 0;
                    pending.setLength(0);
                    break;
                }
                int n = in.read(chunk, 0, chunk.length);
                if (n < 0) {
                    eof = true;
                    continue;
                }
                pending.append(chunk, 0, n);
                String text = redact(pending.toString());
                String[] v = values();
                int hold = v.length == 0 ? 0 : v[0].length() - 1;
                int cut = Math.max(text.lastIndexOf('\n') + 1, text.length() - hold);
                ready = text.substring(0, Math.max(cut, 0));
                readyAt = 0;
                pending.setLength(0);
                pending.append(text, Math.max(cut, 0), text.length());
            }
            int n = Math.min(len, ready.length() - readyAt);
            ready.getChars(readyAt, readyAt + n, buf, off);
            readyAt += n;
            return n;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
