package dev.skydeck.skypilot.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.skydeck.JobStage;
import dev.skydeck.JobStatus;
import dev.skydeck.Resources;
import dev.skydeck.SkyDeckException;
import dev.skydeck.spi.BackendException;
import dev.skydeck.spi.LaunchRequest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JobRecordsAndTaskYamlTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @CsvSource({"PENDING,PENDING", "SUBMITTED,PENDING", "STARTING,STARTING", "RUNNING,RUNNING",
            "WINDING_DOWN,RUNNING", "RECOVERING,RECOVERING", "CANCELLING,CANCELLING", "SUCCEEDED,SUCCEEDED",
            "CANCELLED,CANCELLED", "FAILED,FAILED", "FAILED_SETUP,FAILED", "FAILED_PRECHECKS,FAILED",
            "FAILED_NO_RESOURCE,FAILED", "FAILED_CONTROLLER,FAILED", "PAUSED_BY_A_FUTURE_VERSION,UNKNOWN"})
    void everyManagedJobStatusMapsAndUnknownOnesBecomeUnknown(String sky, JobStatus expected) {
        assertThat(JobRecords.status(sky)).isEqualTo(expected);
    }

    @Test
    void aRecordWithNullsDashesAndMissingFieldsIsReadWithoutErrors() throws Exception {
        JsonNode r = JSON.readTree("{\"job_id\":[7],\"job_name\":\"ppo\",\"status\":\"PENDING\","
                + "\"schedule_state\":\"WAITING\",\"cloud\":\"-\",\"region\":\"-\",\"infra\":\"-\",\"details\":null,"
                + "\"submitted_at\":1745432150.2,\"user_yaml\":\"name: ppo\\nenvs:\\n  SKYDECK_LAUNCH_ID: j-abc-01\\n\"}");
        var job = JobRecords.jobs(JSON.createArrayNode().add(r)).get(0);
        assertThat(job.backendJobId()).isEqualTo("7");
        assertThat(job.launchId()).isEqualTo("j-abc-01");
        assertThat(job.observation().cloud()).isNull();
        assertThat(job.observation().clusterName()).isNull();
        assertThat(job.observation().stage()).isEqualTo(JobStage.WAITING_FOR_RESOURCES);
        assertThat(job.submittedAt().toEpochMilli()).isEqualTo(1745432150200L);
        assertThat(JobRecords.jobs(JSON.readTree("[{\"job_id\":null}, {\"_job_id\":3,\"status\":\"NEW\"}]")))
                .singleElement().satisfies(j -> {
                    assertThat(j.backendJobId()).isEqualTo("3");
                    assertThat(j.name()).isEqualTo("job-3");
                    assertThat(j.observation().status()).isEqualTo(JobStatus.UNKNOWN);
                });
    }

    @Test
    void aMultiTaskJobReportsItsFirstUnfinishedTask() throws Exception {
        var jobs = JobRecords.jobs(JSON.readTree("[{\"job_id\":5,\"task_id\":0,\"status\":\"SUCCEEDED\"},"
                + "{\"job_id\":5,\"task_id\":1,\"status\":\"RUNNING\"}]"));
        assertThat(jobs).singleElement().satisfies(j -> assertThat(j.observation().status()).isEqualTo(JobStatus.RUNNING));
    }

    static TaskYaml.Settings settings(String template, String repo) {
        return new TaskYaml.Settings(template, repo == null ? null : GitWorkdir.parse(repo, "test"), null, null, null);
    }

    private static LaunchRequest request(int gpus, Resources r, String template) {
        return new LaunchRequest("exp", "j-1", 1, List.of("lt", "run=exp", "msg=a b"), Map.of(), 1, gpus, r, "feature/x",
                template, Map.of("SKYDECK_LAUNCH_ID", "j-1"));
    }

    @Test
    void aTemplateIsKeptAndTheExperimentFillsInTheRest() throws Exception {
        String yaml = TaskYaml.render(request(4, new Resources("kubernetes", "my-ctx", null, "A100:8", false), null),
                settings("setup: pip install -e .\nenvs:\n  WANDB_PROJECT: metta\nresources:\n  disk_size: 512\n",
                        "https://github.com/org/repo.git"));
        JsonNode t = new ObjectMapper(new YAMLFactory()).readTree(yaml);
        assertThat(t.path("setup").asText()).isEqualTo("pip install -e .");
        assertThat(t.path("envs").path("WANDB_PROJECT").asText()).isEqualTo("metta");
        assertThat(t.path("envs").path("SKYDECK_LAUNCH_ID").asText()).isEqualTo("j-1");
        assertThat(t.path("resources").path("disk_size").asInt()).isEqualTo(512);
        assertThat(t.path("resources").path("infra").asText()).isEqualTo("k8s/my-ctx");
        assertThat(t.path("resources").path("accelerators").asText()).isEqualTo("A100:4");
        assertThat(t.path("workdir").path("url").asText()).isEqualTo("https://github.com/org/repo.git");
        assertThat(t.path("workdir").path("ref").asText()).isEqualTo("feature/x");
        assertThat(t.path("run").asText()).isEqualTo("lt run=exp 'msg=a b'");
        assertThat(TaskYaml.render(request(0, Resources.ANY, null), settings(null, null))).contains("EAGER_NEXT_REGION");
    }

    @Test
    void gpusWithoutAModelOrInstanceTypeAreRefusedAndBadTemplatesNamed() {
        assertThatThrownBy(() -> TaskYaml.render(request(2, Resources.ANY, null), settings(null, null)))
                .isInstanceOf(BackendException.class).hasMessageContaining("names no GPU model");
        assertThatThrownBy(() -> TaskYaml.render(request(0, Resources.ANY, null), settings("- a\n- list\n", null)))
                .isInstanceOf(SkyDeckException.InvalidInput.class).hasMessageContaining("mapping");
    }

    @Test
    void theOriginalsNamesBecomeJobNamesSkyPilotAcceptsAndNoTwoShareOne() {
        List<String> names = List.of("daveey.nav.baseline (copy)", "daveey.nav.baseline copy", "Test PPO Training",
                "ppo (copy) (copy)", "a...b", "(x)", "über-run", "x".repeat(128) + "", "runs: 5% lr");
        List<String> jobNames = names.stream().map(JobNames::of).toList();
        assertThat(jobNames).allMatch(n -> JobNames.SKYPILOT_NAME.matcher(n).matches()).doesNotHaveDuplicates()
                .allMatch(n -> n.length() <= 128);
        assertThat(JobNames.of("daveey.nav.baseline (copy)")).matches("daveey\\.nav\\.baseline-copy-[0-9a-f]{6}");
        assertThat(JobNames.of("daveey.nav.baseline (copy)")).isEqualTo(JobNames.of("daveey.nav.baseline (copy)"));
        // names SkyPilot accepts go as they are
        assertThat(JobNames.of("ppo_4layer")).isEqualTo("ppo_4layer");
        assertThat(JobNames.of("grid.gpus1.layers1")).isEqualTo("grid.gpus1.layers1");
        assertThat(JobNames.of("x".repeat(128))).isEqualTo("x".repeat(128));
    }

    @Test
    void aTaskOfAnExperimentWithTheOriginalsNameCarriesAValidNameAndTheRealOneInItsRunAndEnvs() throws Exception {
        String name = "daveey.nav.baseline (copy)";
        LaunchRequest r = new LaunchRequest(name, "j-c", 1, List.of("lt", "run=" + name), Map.of(), 1, 0,
                Resources.ANY, null, null, Map.of("SKYDECK_EXPERIMENT", name));
        JsonNode task = new ObjectMapper(new YAMLFactory()).readTree(TaskYaml.render(r, settings(null, null)));
        assertThat(task.path("name").asText()).isEqualTo(JobNames.of(name));
        assertThat(task.path("run").asText()).isEqualTo("lt 'run=daveey.nav.baseline (copy)'");
        assertThat(task.path("envs").path("SKYDECK_EXPERIMENT").asText()).isEqualTo(name);
    }
}
