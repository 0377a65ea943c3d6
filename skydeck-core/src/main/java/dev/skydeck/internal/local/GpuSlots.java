package dev.skydeck.internal.local;

import dev.skydeck.SkyDeckException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * How many GPU slots the local backend hands out, and where that number came from.
 *
 * @param count     slots {@code 0..count-1}
 * @param simulated whether the slots are made up (no GPU found) so that bookkeeping still works
 * @param source    where the count came from, for health and logs
 */
public record GpuSlots(int count, boolean simulated, String source) {
    /** Environment variable that sets the slot count. */
    public static final String ENV = "SKYDECK_LOCAL_GPUS";
    /** Slots used when no GPU is found. */
    public static final int SIMULATED = 8;

    private static final long NVIDIA_SMI_TIMEOUT_SECONDS = 5;

    /** Validates the count. */
    public GpuSlots {
        if (count < 0 || count > 1024) {
            throw new SkyDeckException.InvalidInput("GPU slot count " + count + " is not allowed: use 0 to 1024");
        }
    }

    /**
     * The configured count, else {@code SKYDECK_LOCAL_GPUS} from {@code env}, else the GPUs
     * {@code nvidia-smi -L} lists, else {@value #SIMULATED} simulated slots.
     *
     * @param configured the builder's count, or {@code null}
     * @param env        the environment to read
     * @param nvidiaSmi  the nvidia-smi command (its name or path)
     */
    public static GpuSlots resolve(Integer configured, Map<String, String> env, String nvidiaSmi) {
        if (configured != null) {
            return new GpuSlots(configured, false, "configured");
        }
        String fromEnv = env.get(ENV);
        if (fromEnv != null && !fromEnv.isBlank()) {
            try {
                return new GpuSlots(Integer.parseInt(fromEnv.strip()), false, ENV);
            } catch (NumberFormatException e) {
                throw new SkyDeckException.InvalidInput(ENV + "='" + fromEnv.strip()
                        + "' is not a number: set it to how many GPUs local jobs may use, e.g. " + ENV + "=2");
            }
        }
        int found = countNvidiaGpus(nvidiaSmi);
        if (found > 0) {
            return new GpuSlots(found, false, "nvidia-smi");
        }
        return new GpuSlots(SIMULATED, true, "simulated");
    }

    /** GPUs listed by {@code nvidia-smi -L} (run without a shell, with a timeout); 0 when absent or failing. */
    static int countNvidiaGpus(String nvidiaSmi) {
        Process process;
        try {
            process = new ProcessBuilder(List.of(nvidiaSmi, "-L"))
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
        } catch (IOException e) {
            return 0;
        }
        try (InputStream out = process.getInputStream()) {
            if (!process.waitFor(NVIDIA_SMI_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return 0;
            }
            if (process.exitValue() != 0) {
                return 0;
            }
            // The listing is a few lines; it fits the pipe buffer, so reading after the wait is safe.
            String text = new String(out.readAllBytes(), StandardCharsets.UTF_8);
            return (int) text.lines().filter(line -> line.startsWith("GPU ")).count();
        } catch (IOException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            return 0;
        }
    }
}
