package dev.skydeck;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class GpuCatalogTest {

    @ParameterizedTest(name = "{0} -> {1} x {2}")
    @CsvSource({
        // AWS
        "g4dn.xlarge, T4, 1", "g4dn.2xlarge, T4, 1", "g4dn.4xlarge, T4, 1", "g4dn.8xlarge, T4, 1",
        "g4dn.16xlarge, T4, 1", "g4dn.12xlarge, T4, 4", "g4dn.metal, T4, 8",
        "g5.xlarge, A10G, 1", "g5.16xlarge, A10G, 1", "g5.12xlarge, A10G, 4", "g5.24xlarge, A10G, 4",
        "g5.48xlarge, A10G, 8",
        "g6.xlarge, L4, 1", "g6.8xlarge, L4, 1", "g6.12xlarge, L4, 4", "g6.24xlarge, L4, 4", "g6.48xlarge, L4, 8",
        "g6e.12xlarge, L40S, 4",
        "p3.2xlarge, V100, 1", "p3.8xlarge, V100, 4", "p3.16xlarge, V100, 8", "p3dn.24xlarge, V100-32GB, 8",
        "p4d.24xlarge, A100, 8", "p4de.24xlarge, A100-80GB, 8",
        "p5.48xlarge, H100, 8", "p5.4xlarge, H100, 1", "p5en.48xlarge, H200, 8",
        // GCP
        "a2-highgpu-1g, A100, 1", "a2-highgpu-2g, A100, 2", "a2-highgpu-4g, A100, 4", "a2-highgpu-8g, A100, 8",
        "a2-megagpu-16g, A100, 16",
        "a2-ultragpu-1g, A100-80GB, 1", "a2-ultragpu-8g, A100-80GB, 8",
        "a3-highgpu-8g, H100, 8", "a3-highgpu-1g, H100, 1",
        "g2-standard-4, L4, 1", "g2-standard-8, L4, 1", "g2-standard-12, L4, 1", "g2-standard-16, L4, 1",
        "g2-standard-32, L4, 1", "g2-standard-24, L4, 2", "g2-standard-48, L4, 4", "g2-standard-96, L4, 8",
        // Azure
        "Standard_NV36ads_A10_v5, A10, 1", "Standard_NV6ads_A10_v5, A10, 1", "Standard_NV12ads_A10_v5, A10, 1",
        "Standard_NV18ads_A10_v5, A10, 1", "Standard_NV36adms_A10_v5, A10, 1", "Standard_NV72ads_A10_v5, A10, 2",
        "Standard_NC24ads_A100_v4, A100-80GB, 1", "Standard_NC48ads_A100_v4, A100-80GB, 2",
        "Standard_NC96ads_A100_v4, A100-80GB, 4",
        "Standard_NC6s_v3, V100, 1", "Standard_NC12s_v3, V100, 2", "Standard_NC24s_v3, V100, 4",
        "Standard_NC24rs_v3, V100, 4",
        "Standard_NC4as_T4_v3, T4, 1", "Standard_NC16as_T4_v3, T4, 1", "Standard_NC64as_T4_v3, T4, 4",
        "Standard_NC6s_v2, P100, 1", "Standard_NC24rs_v2, P100, 4",
        "Standard_NC6, K80, 1", "Standard_NC12, K80, 2", "Standard_NC24, K80, 4", "Standard_NC24r, K80, 4",
        "Standard_NC40ads_H100_v5, H100, 1",
        "Standard_ND96asr_v4, A100, 8", "Standard_ND96amsr_A100_v4, A100-80GB, 8",
        "Standard_ND96isr_H100_v5, H100, 8", "Standard_ND40rs_v2, V100-32GB, 8",
        "Standard_ND6s, P40, 1", "Standard_ND12s, P40, 2", "Standard_ND24rs, P40, 4",
        "Standard_NV6, M60, 1", "Standard_NV24s_v3, M60, 2",
    })
    void detectsModelAndCount(String instanceType, String model, int count) {
        assertThat(GpuCatalog.detect(instanceType)).contains(new GpuType(model, count));
    }

    @ParameterizedTest
    @ValueSource(strings = {"P5.48XLARGE", "p5.48xLarge", "  p5.48xlarge  ", "STANDARD_ND96ISR_H100_V5",
        "standard_nd96isr_h100_v5", "A3-HIGHGPU-8G"})
    void ignoresCaseAndSurroundingBlanks(String instanceType) {
        assertThat(GpuCatalog.detect(instanceType)).map(GpuType::model).contains("H100");
    }

    @ParameterizedTest
    @ValueSource(strings = {"m5.large", "c7i.4xlarge", "n2-standard-8", "Standard_D4s_v5", "g5", "g5.",
        "g5.3xlarge", "xg5.xlarge", "g5.xlarge.extra", "p5", "a2-highgpu-3g", "g2-standard-2", "Standard_NC6x",
        "", " "})
    void returnsEmptyForCpuAndUnknownTypes(String instanceType) {
        assertThat(GpuCatalog.detect(instanceType)).isEmpty();
    }

    @Test
    void returnsEmptyForNull() {
        assertThat(GpuCatalog.detect(null)).isEmpty();
        assertThat(GpuCatalog.cloud(null)).isEmpty();
    }

    @Test
    void namesTheCloudOfAKnownType() {
        assertThat(GpuCatalog.cloud("g5.xlarge")).contains("aws");
        assertThat(GpuCatalog.cloud("g2-standard-8")).contains("gcp");
        assertThat(GpuCatalog.cloud("Standard_NC6s_v3")).contains("azure");
        assertThat(GpuCatalog.cloud("m5.large")).isEmpty();
    }

    @Test
    void acceleratorPrefersTheGivenOneAndElseDetects() {
        assertThat(GpuCatalog.accelerator(new Resources("aws", null, "p5.48xlarge", null, false)))
                .contains("H100:8");
        assertThat(GpuCatalog.accelerator(new Resources("aws", null, "p5.48xlarge", "H200:8", false)))
                .contains("H200:8");
        assertThat(GpuCatalog.accelerator(Resources.ANY)).isEmpty();
        assertThat(GpuCatalog.accelerator(new Resources(null, null, "m5.large", null, false))).isEmpty();
    }

    @Test
    void providersCoverTheFourCloudsInOrder() {
        assertThat(GpuCatalog.providers()).extracting(GpuCatalog.Provider::cloud)
                .containsExactly("aws", "gcp", "azure", "kubernetes");
        GpuCatalog.Provider aws = GpuCatalog.provider("AWS").orElseThrow();
        assertThat(aws.displayName()).isEqualTo("AWS");
        assertThat(aws.regions()).startsWith("us-east-1").contains("us-west-2");
        assertThat(aws.instanceTypes()).contains("p5.48xlarge", "g5.xlarge");
        GpuCatalog.Provider k8s = GpuCatalog.provider("kubernetes").orElseThrow();
        assertThat(k8s.regions()).isEmpty();
        assertThat(k8s.instanceTypes()).isEmpty();
        assertThat(k8s.accelerators()).contains("H100");
        assertThat(GpuCatalog.provider("oracle")).isEqualTo(Optional.empty());
    }

    @Test
    void everyCommonInstanceTypeOfACloudIsAGpuTypeOfThatCloud() {
        for (GpuCatalog.Provider provider : GpuCatalog.providers()) {
            for (String type : provider.instanceTypes()) {
                assertThat(GpuCatalog.detect(type)).as(type).isPresent();
                assertThat(GpuCatalog.cloud(type)).as(type).contains(provider.cloud());
            }
        }
    }

    @Test
    void gpuTypeSpellsTheAcceleratorAsSkyPilotDoes() {
        assertThat(new GpuType("A100-80GB", 4).accelerator()).isEqualTo("A100-80GB:4");
    }
}
