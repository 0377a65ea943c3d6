package dev.skydeck.skypilot.internal;

import dev.skydeck.Secrets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import okhttp3.Cookie;
import okhttp3.HttpUrl;

/**
 * The API server's cookies as the official client keeps them: a Netscape/Mozilla cookie file
 * (what {@code sky api login} writes; tab-separated domain, include-subdomains flag, path, secure,
 * expiry in epoch seconds, name, value; {@code #} comments, {@code #HttpOnly_} marking http-only
 * cookies) plus, for this process, the session cookies a server set. A {@code Set-Cookie} in a
 * response refreshes the file as {@code set_api_cookie_jar} does: written to a temporary file in
 * the same folder and moved over the old one, persistent cookies only (Python's
 * {@code MozillaCookieJar.save} leaves session cookies out). Values are secrets: never logged, and
 * every value read or set is registered with {@link Secrets}, so logs and job output served by
 * the API show a marker instead.
 */
public final class Cookies {
    /** One cookie. Its value is a secret: never log it. */
    record Entry(String domain, boolean subdomains, String path, boolean secure, long expiry, String name, String value,
                 boolean httpOnly) {
        @Override
        public String toString() {
            return "Cookie[" + name + " for " + domain + "]";
        }

        String key() {
            return domain.toLowerCase(Locale.ROOT) + "\t" + path + "\t" + name;
        }
    }

    private final Path file;
    private final Map<String, Entry> session = new LinkedHashMap<>();

    /** Cookies of {@code file} ({@code null}: none). */
    public Cookies(Path file) {
        this.file = file;
    }

    /** The {@code Cookie} header for a request to {@code url}, or {@code null}. */
    public synchronized String header(HttpUrl url, Instant now) {
        Map<String, Entry> all = new LinkedHashMap<>();
        for (Entry e : read(file)) {
            all.put(e.key(), e);
        }
        all.putAll(session);
        StringBuilder sb = new StringBuilder();
        for (Entry c : all.values()) {
            if (!matches(c, url.host(), url.encodedPath(), url.isHttps(), now)) {
                continue;
            }
            if (sb.length() > 0) {
                sb.append("; ");
            }
            sb.append(c.name()).append('=').append(c.value());
        }
        return sb.length() == 0 ? null : sb.toString();
    }

    /** Keeps the cookies a response to {@code url} set: persistent ones in the file, session ones here. */
    public synchronized void save(HttpUrl url, List<String> setCookie, Instant now) throws IOException {
        if (setCookie.isEmpty()) {
            return;
        }
        Map<String, Entry> persisted = new LinkedHashMap<>();
        for (Entry e : read(file)) {
            persisted.put(e.key(), e);
        }
        boolean changed = false;
        for (String header : setCookie) {
            Cookie c = Cookie.parse(url, header);
            if (c == null) {
                continue;
            }
            Secrets.register(c.value());
            Entry e = new Entry(c.hostOnly() ? c.domain() : "." + c.domain(), !c.hostOnly(), c.path(), c.secure(),
                    c.persistent() ? c.expiresAt() / 1000 : 0, c.name(), c.value(), c.httpOnly());
            boolean expired = c.persistent() && c.expiresAt() <= now.toEpochMilli();
            if (!c.persistent()) {
                session.put(e.key(), e);
            } else if (expired) {
                session.remove(e.key());
                changed |= persisted.remove(e.key()) != null;
            } else {
                session.remove(e.key());
                changed |= !e.equals(persisted.put(e.key(), e));
            }
        }
        if (changed && file != null) {
            write(new ArrayList<>(persisted.values()));
        }
    }

    private void write(List<Entry> entries) throws IOException {
        StringBuilder sb = new StringBuilder("# Netscape HTTP Cookie File\n"
                + "# http://curl.haxx.se/rfc/cookie_spec.html\n# This is a generated file!  Do not edit.\n\n");
        for (Entry e : entries) {
            sb.append(e.httpOnly() ? "#HttpOnly_" : "").append(e.domain()).append('\t')
                    .append(e.subdomains() ? "TRUE" : "FALSE").append('\t').append(e.path()).append('\t')
                    .append(e.secure() ? "TRUE" : "FALSE").append('\t').append(e.expiry() > 0 ? e.expiry() : "")
                    .append('\t').append(e.name()).append('\t').append(e.value()).append('\n');
        }
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".cookies", ".tmp");
        try {
            Files.writeString(tmp, sb, StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static List<Entry> read(Path file) {
        List<Entry> out = new ArrayList<>();
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
            boolean httpOnly = false;
            if (l.startsWith("#HttpOnly_")) {
                l = l.substring("#HttpOnly_".length());
                httpOnly = true;
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
            Secrets.register(f[6].strip());
            out.add(new Entry(f[0].strip(), "TRUE".equalsIgnoreCase(f[1].strip()), f[2].strip(),
                    "TRUE".equalsIgnoreCase(f[3].strip()), expiry, f[5], f[6].strip(), httpOnly));
        }
        return out;
    }

    private static boolean matches(Entry c, String host, String path, boolean https, Instant now) {
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
