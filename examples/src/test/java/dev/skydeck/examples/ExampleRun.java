package dev.skydeck.examples;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Runs an example's {@code main} with SkyDeck's home in a test directory and returns what it printed. */
final class ExampleRun {
    /** An example's entry point. */
    interface Main {
        void run(String[] args) throws Exception;
    }

    private ExampleRun() {
    }

    static String run(Path home, Main main, String... args) throws Exception {
        PrintStream stdout = System.out;
        String previousHome = System.getProperty("skydeck.home");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setProperty("skydeck.home", home.toString());
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            main.run(args);
        } finally {
            System.setOut(stdout);
            if (previousHome == null) {
                System.clearProperty("skydeck.home");
            } else {
                System.setProperty("skydeck.home", previousHome);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
