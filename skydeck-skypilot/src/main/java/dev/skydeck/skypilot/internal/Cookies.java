package dev.skydeck.skypilot.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Cookies from a Netscape/Mozilla cookie file (what {@code sky api login} writes): tab-separated
 * domain, include-subdomains flag, path, secure, expiry (epoch seconds), name, value; {@code #}
 * comments, with {@code #HttpOnly_} marking http-only cookies.
 */
public final class Cookies {
    /** One cookie. Its value is a secret: never log it. */
    record Cookie(String domain, boolean subdomains, String path, boolean secure, long expiry, String name,
                  String value) {
        @Override
        public String toString() {
            return "Cookie[" + name + " for " + domain + "]";
        }
    }

    private Cookies() {
    }

    /** The {@code Cookie} header value for a request to {@code host} over {@code https}, or {@code null}. */
    public static String header(Path file, String host, String path, boolean https, Instant now) {
        List<Cookie> cookies = read(file);
        StringBuilder sb = new StringBuilder();
        for (Cookie c : cookies) {
            if (!matches(c, host, path, https, now)) {
                continue;
            }
            if (sb.length() > 0) {
                sb.append("; ");
            }
            sb.append(c.name()).append('=').append(c.value());
        }
        return sb.length() == 0 ? null : sb.toString();
    }

    static List<Cookie> read(Path file) {
        List<Cookie> out = new ArrayList<>();
        if (file == null || !Files.isRegularFile(file)) {
            return out;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return out;
        }
        for (String line : lines) {
            String l = line;
            if (l.startsWith("#HttpOnly_")) {
                l = l.substring("#HttpOnly_".length());
            } else if (l.startsWith("#") || l.isBlank()) {
                continue;
            }
            String[] f = l.split("\t", -1);
            if (f.length < 7) {
                continue;
            }
            long expiry;
            try {
                expiry = f[4].isBlank() ? 0 : Long.parseLong(f[4].strip());
            } catch (NumberFormatException e) {
                continue;
            }
            out.add(new Cookie(f[0].strip(), "TRUE".equalsIgnoreCase(f[1].strip()), f[2].strip(),
                    "TRUE".equalsIgnoreCase(f[3].strip()), expiry, f[5], f[6].strip()));
        }
        return out;
    }

    private static boolean matches(Cookie c, String host, String path, boolean https, Instant now) {
        if (c.expiry() > 0 && c.expiry() < now.getEpochSecond()) {
            return false;
        }
        if (c.secure() && !https) {
            return false;
        }
        String domain = c.domain().toLowerCase(Locale.ROOT);
        String h = host.toLowerCase(Locale.ROOT);
        boolean domainOk = domain.startsWith(".") ? h.equals(domain.substring(1)) || h.endsWith(domain)
                : h.equals(domain) || (c.subdomains() && h.endsWith("." + domain));
        String p = c.path().isEmpty() ? "/" : c.path();
        return domainOk && path.startsWith(p);
    }
}
