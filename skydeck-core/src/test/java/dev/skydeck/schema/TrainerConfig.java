package dev.skydeck.schema;

import java.util.List;
import java.util.Map;

/** A trainer configuration shaped like users' own, for {@code FlagSchema.fromClass} tests. */
public class TrainerConfig {
    /** An optimizer choice. */
    public enum Optimizer { ADAM, SGD, MUON }

    /** PPO loss settings, a record with a no-arg constructor. */
    public record Ppo(boolean enabled, double clipCoef) {
        /** The defaults. */
        public Ppo() {
            this(true, 0.2);
        }
    }

    /** Losses, a plain class. */
    public static class Losses {
        public Ppo ppo = new Ppo();
        public float entropyCoef = 0.01f;
    }

    /** Trainer settings. */
    public static class Trainer {
        public Losses losses = new Losses();
        public int batchSize = 524288;
        public long totalTimesteps = 10_000_000_000L;
        public Optimizer optimizer = Optimizer.ADAM;
        public Double learningRate = 0.0003;
    }

    public static final String CONSTANT = "ignored";
    public static int counter;

    public Trainer trainer = new Trainer();
    public String runName = "default";
    public char separator = '/';
    public Boolean wandb;
    public transient String cache = "ignored";
    public List<String> tags = List.of("ignored");
    public Map<String, Integer> sizes = Map.of();
    public int[] layers = {1, 2};
    public java.time.Duration timeout = java.time.Duration.ofMinutes(1);
}
