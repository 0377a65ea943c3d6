package dev.skydeck.examples;

import dev.skydeck.ApplyResult;
import dev.skydeck.BulkAction;
import dev.skydeck.DesiredState;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.Job;
import dev.skydeck.SkyDeck;
import dev.skydeck.local.LocalBackend;
import dev.skydeck.toy.ToyTrainer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The grid search of the original SkyDeck: a 2 × 4 grid (nodes × layers on SkyPilot; GPUs ×
 * layers on the local backend, where a job has one node), declared with {@link SkyDeck#apply},
 * waited for, and summarised. Runs with no configuration: SkyDeck's default database and backend
 * {@code auto} (local processes running {@link ToyTrainer} here).
 *
 * <p>Applying is idempotent: running it again launches nothing new (the grid is already what it
 * declares) and prints the same jobs; change a flag here and only that experiment is updated.
 * {@code --restart} runs the whole grid anew.
 */
public final class GridSearch {
    private GridSearch() {
    }

    /** Applies the grid (restarting it with {@code --restart}), waits for it, and prints a table. */
    public static void main(String[] args) {
        boolean restart = List.of(args).contains("--restart");
        try (SkyDeck deck = SkyDeck.open()) {
            boolean local = deck.backend() instanceof LocalBackend;
            List<ExperimentSpec> grid = new ArrayList<>();
            for (int size : new int[] {1, 2}) {
                for (int layers : new int[] {1, 4, 16, 64}) {
                    String name = (local ? "grid.gpus" : "grid.nodes") + size + ".layers" + layers;
                    ExperimentSpec spec = ExperimentSpec.named(name)
                            .flag("trainer.losses.ppo.enabled", true)
                            .flag("policy_architecture.core_resnet_layers", layers)
                            .flag("epochs", 5)
                            .flag("sleep_ms", 300)
                            .description("grid search: " + (local ? "gpus " : "nodes ") + size + " × layers " + layers)
                            .tags(List.of("grid"));
                    spec = local ? spec.baseCommand(ToyTrainer.baseCommand()).gpus(size) : spec.nodes(size).gpus(4);
                    grid.add(spec.desired(DesiredState.RUNNING));
                }
            }
            List<ApplyResult> applied = deck.apply(grid);
            List<Experiment> experiments = applied.stream().map(ApplyResult::experiment).toList();
            if (restart) {
                deck.bulk(BulkAction.RESTART, experiments.stream().map(Experiment::id).toList());
            }
            System.out.printf("Applied %d experiments on the %s backend (%s): %d created, %d updated, %d unchanged%s;"
                    + " waiting for them…%n", grid.size(), deck.backend().kind(), deck.health().backendReason(),
                    count(applied, ApplyResult.Outcome.CREATED), count(applied, ApplyResult.Outcome.UPDATED),
                    count(applied, ApplyResult.Outcome.UNCHANGED), restart ? ", all restarted" : "");
            List<Experiment> settled = deck.awaitSettled(experiments, Duration.ofMinutes(30));
            deck.syncCheckpoints();
            printTable(deck, settled);
        }
    }

    private static long count(List<ApplyResult> results, ApplyResult.Outcome outcome) {
        return results.stream().filter(r -> r.outcome() == outcome).count();
    }

    static void printTable(SkyDeck deck, List<Experiment> experiments) {
        System.out.printf(Locale.ROOT, "%-24s %-9s %-7s %-10s %-5s %-6s %s%n", "EXPERIMENT", "STATE", "LAYERS",
                "RESOURCES", "EXIT", "EPOCH", "JOB");
        for (Experiment stale : experiments) {
            Experiment e = deck.refresh(stale);
            List<Job> jobs = deck.jobs(e);
            Job last = jobs.isEmpty() ? null : jobs.get(0);
            System.out.printf(Locale.ROOT, "%-24s %-9s %-7s %-10s %-5s %-6s %s%n", e.name(), e.currentState(),
                    e.flags().get("policy_architecture.core_resnet_layers"),
                    e.spec().nodes() + "×" + e.spec().gpus() + " GPU",
                    last == null || last.exitCode() == null ? "-" : last.exitCode(),
                    e.latestEpoch() == null ? "-" : e.latestEpoch(),
                    last == null ? "-" : last.id() + (last.failureReason() == null ? "" : " (" + last.failureReason() + ")"));
        }
    }
}
