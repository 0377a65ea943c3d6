package dev.skydeck;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** SkyDeck's version as the build wrote it into {@code version.properties}. */
final class Version {
    private Version() {
    }

    static String read() {
        try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("version");
                if (v != null && !v.isBlank() && !v.startsWith("${")) {
                    return v;
                }
            }
        } catch (IOException e) {
            // fall through: a build without the file still runs
        }
        return "unknown";
    }
}
