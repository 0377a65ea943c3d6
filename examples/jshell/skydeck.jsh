// SkyDeck in jshell. Run from the repository root:
//   ./mvnw -q -pl examples -am -DskipTests package
//   jshell --class-path "examples/target/classes:$(cat examples/target/classpath.txt)" examples/jshell/skydeck.jsh
import dev.skydeck.*;
import java.time.Duration;
import java.util.List;

// Re-runs start clean: delete the experiment an earlier run of this script created.
try (SkyDeck deck = SkyDeck.open()) { deck.findExperiment("ppo_4layer").ifPresent(deck::delete); }

// The snippet of SPEC §9, as written. On the local backend its 4-node job fails with a message
// that says why (local jobs have one node); with a SkyPilot API server configured it runs there.
try (SkyDeck deck = SkyDeck.open()) {                       // ~/.skydeck/skydeck.db, backend auto
    Experiment e = deck.create(ExperimentSpec.named("ppo_4layer")
            .flag("trainer.losses.ppo.enabled", true)
            .flag("policy_architecture.core_resnet_layers", 4)
            .nodes(4).gpus(4)
            .desired(DesiredState.RUNNING));
    deck.awaitSettled(List.of(e), Duration.ofHours(6));
    deck.jobs(e).forEach(j -> System.out.println(j.id() + " " + j.status()));
}

// Why it failed, and what else is there:
try (SkyDeck deck = SkyDeck.open()) {
    deck.jobs(deck.experiment("ppo_4layer")).forEach(j -> System.out.println(j.failureReason()));
    deck.experiments().forEach(x -> System.out.println(x.name() + " " + x.currentState() + " → " + x.desiredState()));
}
/exit
