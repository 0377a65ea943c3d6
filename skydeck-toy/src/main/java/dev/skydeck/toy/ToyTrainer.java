package dev.skydeck.toy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A stand-in for a training program, for the local backend: it takes SkyDeck's command line
 * ({@code --gpus=G --nodes=N [tool] run=<name> key=value…}), prints one line per epoch, and
 * writes checkpoint files named like real ones ({@code <run>:v<epoch>.mpt} plus a replay) into
 * {@code $SKYDECK_CHECKPOINT_DIR}.
 *
 * <p>Flags it honours: {@code epochs} (default 5), {@code sleep_ms} per epoch (default 200),
 * {@code fail_at_epoch} (exit 1 at that epoch; default never). Every other flag is printed.
 * Uses only the JDK, so its classpath is just its own classes: it is its own artifact
 * ({@code dev.skydeck:skydeck-toy}), used by {@code skydeck demo} and the examples, not part of the
 * library.
 */
public final class ToyTrainer {
    private ToyTrainer() {
    }

    /** Runs the toy training loop. */
    public static void main(String[] args) throws IOException, InterruptedException {
        Map<String, String> flags = new LinkedHashMap<>();
        String gpus = "0";
        String nodes = "1";
        for (String arg : args) {
            if (arg.startsWith("--gpus=")) {
                gpus = arg.substring(7);
            } else if (arg.startsWith("--nodes=")) {
                nodes = arg.substring(8);
            } else if (arg.contains("=")) {
                int eq = arg.indexOf('=');
                flags.put(arg.substring(0, eq), arg.substring(eq + 1));
            } else {
                System.out.println("tool: " + arg);
            }
        }
        String run = flags.getOrDefault("run", "toy");
        int epochs = Integer.parseInt(flags.getOrDefault("epochs", "5"));
        long sleepMs = Long.parseLong(flags.getOrDefault("sleep_ms", "200"));
        int failAt = Integer.parseInt(flags.getOrDefault("fail_at_epoch", "-1"));
        String dirEnv = System.getenv("SKYDECK_CHECKPOINT_DIR");
        Path dir = dirEnv == null ? null : Path.of(dirEnv);
        System.out.printf(Locale.ROOT, "toy trainer: run=%s nodes=%s gpus=%s CUDA_VISIBLE_DEVICES=%s launch=%s flags=%s%n",
                run, nodes, gpus, System.getenv().getOrDefault("CUDA_VISIBLE_DEVICES", ""),
                System.getenv().getOrDefault("SKYDECK_LAUNCH_ID", "-"), flags);
        double layers = Double.parseDouble(flags.getOrDefault("policy_architecture.core_resnet_layers", "1"));
        double loss = 2.0;
        for (int epoch = 1; epoch <= epochs; epoch++) {
            Thread.sleep(sleepMs);
            if (epoch == failAt) {
                System.err.println("simulated failure at epoch " + epoch + " (fail_at_epoch=" + failAt + ")");
                System.exit(1);
            }
            loss = loss * (0.7 + 0.05 / Math.max(1, Math.log(layers + 1)));
            System.out.printf(Locale.ROOT, "epoch %d/%d loss=%.4f%n", epoch, epochs, loss);
            if (dir != null) {
                Files.createDirectories(dir.resolve("replays"));
                Files.writeString(dir.resolve(run + ":v" + epoch + ".mpt"), "toy model of epoch " + epoch + "\n");
                Files.writeString(dir.resolve("replays").resolve("replay_epoch_" + epoch + ".json"), "{}\n");
            }
        }
        System.out.println("done: " + epochs + " epochs, final loss " + String.format(Locale.ROOT, "%.4f", loss));
    }

    /**
     * The base command that runs this trainer with the current JVM, for experiments on the local
     * backend: {@code <java> -cp <these classes> dev.skydeck.examples.ToyTrainer}, quoted.
     */
    public static String baseCommand() {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classes;
        try {
            classes = Path.of(ToyTrainer.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException("cannot locate the toy trainer's classes", e);
        }
        StringBuilder b = new StringBuilder();
        for (String word : java.util.List.of(javaBin, "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp",
                classes, ToyTrainer.class.getName())) {
            b.append(b.length() == 0 ? "" : " ").append(quote(word));
        }
        return b.toString();
    }

    /** One word for a POSIX shell-like split: as it is when plain, else in single quotes. */
    private static String quote(String word) {
        if (!word.isEmpty() && word.chars().allMatch(c -> Character.isLetterOrDigit(c) || "/._-+=:,@%".indexOf(c) >= 0)) {
            return word;
        }
        return "'" + word.replace("'", "'\\''") + "'";
    }
}
