package dev.skydeck.internal.local;

import dev.skydeck.Secrets;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The environment a local job (and its runner) gets: an allow-list of the server's variables that
 * programs need to run (paths, user, locale, time zone, GPU and Python settings), the names the
 * user passes on purpose, and the job's own {@code SKYDECK_*} variables. Nothing else of the
 * server's environment reaches a job, so its tokens, passwords and cloud keys never do.
 */
public final class JobEnvironment {
    /** Variables passed as they are. */
    static final Set<String> NAMES = Set.of("PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ",
            "TMPDIR", "TEMP", "TMP", "TERM", "HOSTNAME", "PWD", "LD_LIBRARY_PATH", "LIBRARY_PATH", "CPATH",
            "VIRTUAL_ENV", "CONDA_PREFIX", "CONDA_DEFAULT_ENV", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
            "JAVA_HOME", "XDG_RUNTIME_DIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME");
    /** Variables passed by prefix. */
    static final List<String> PREFIXES = List.of("LC_", "CUDA_", "NCCL_", "NVIDIA_", "PYTHON", "TORCH_",
            "HF_HOME", "TRANSFORMERS_CACHE", "WANDB_DIR", "WANDB_MODE");

    private JobEnvironment() {
    }

    /** Whether the allow-list passes {@code name}; a secret-looking name never is ({@code CUDA_TOKEN}). */
    public static boolean allowed(String name) {
        if (Secrets.isSecretName(name) || name.startsWith("SKYDECK_") || name.startsWith("SKYPILOT_")) {
            return false;
        }
        return NAMES.contains(name) || PREFIXES.stream().anyMatch(name::startsWith);
    }

    /**
     * The job's environment.
     *
     * @param server the server's environment
     * @param pass   names the user passes on purpose (even secret-looking ones: the user asked)
     * @param job    the job's own variables ({@code SKYDECK_LAUNCH_ID}, …, {@code CUDA_VISIBLE_DEVICES}),
     *               which win
     */
    public static Map<String, String> of(Map<String, String> server, Collection<String> pass, Map<String, String> job) {
        Map<String, String> env = new TreeMap<>();
        server.forEach((name, value) -> {
            if (value != null && (allowed(name) || pass.contains(name))) {
                env.put(name, value);
            }
        });
        // CUDA_VISIBLE_DEVICES is the backend's to hand out: never the server's own
        env.remove("CUDA_VISIBLE_DEVICES");
        env.putAll(job);
        return new LinkedHashMap<>(env);
    }
}
