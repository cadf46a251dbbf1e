/**
 * The container runtime: every component in its own container on Docker networks that mirror the
 * topology, as testcontainers modules (`new XContainer(options).start()` → `StartedXContainer`), and
 * ContainerRuntime, which starts the topology records (runtime/topologies) on them like the other runtimes.
 * See docs/containers.md.
 */
export { connectEngine, probeEngine, NO_ENGINE_FIX } from "./engine";
export type { EngineProbe } from "./engine";
export { imageName, imageTag, requireImage, buildImageFix, ensureImages } from "./images";
export type { ImageKind, ImageState } from "./images";
export { imageInputsDigest, INPUTS_LABEL } from "./image-inputs";
export { ContainerNetwork, StartedContainerNetwork, networkName, UMS_EDGE_LABEL } from "./networks";
export type { ContainerNetworkOptions, NetworkRef } from "./networks";
export { ComponentContainer, StartedComponentContainer, COMPONENT_LABEL, DEFAULT_STARTUP_TIMEOUT_MS } from "./component-container";
export type { ComponentContainerOptions } from "./component-container";
export { ContainerOutput } from "./container-output";
export { ReadyWaitStrategy, ContainerExitedError, ContainerNotReadyError } from "./ready-wait-strategy";
export { MockUmsContainer, StartedMockUmsContainer, UMS_PORT } from "./mock-ums-container";
export type { MockUmsContainerOptions } from "./mock-ums-container";
export { AlbEmulatorContainer, StartedAlbEmulatorContainer } from "./alb-emulator-container";
export type { AlbEmulatorContainerOptions, AlbReadyLine, ContainerS3TrustStore } from "./alb-emulator-container";
export { NginxProxyContainer, StartedNginxProxyContainer } from "./nginx-proxy-container";
export type { NginxProxyContainerOptions } from "./nginx-proxy-container";
export { DeviceFleetContainer, StartedDeviceFleetContainer } from "./device-fleet-container";
export type { DeviceFleetContainerOptions, FleetStatsLine, DeviceEventLine } from "./device-fleet-container";
export { ProcessContainer, StartedProcessContainer, containerOptionsOf } from "./process-container";
export type { ProcessContainerOptions, PathMapping } from "./process-container";
export { IcgContainer, StartedIcgContainer } from "./icg-container";
export type { IcgContainerOptions } from "./icg-container";
export { TcpProbeContainer } from "./probe-container";
export type { TcpProbeOptions } from "./probe-container";
export { ContainerRuntime } from "./container-runtime";
export type { ContainerRuntimeOptions, ContainerS3 } from "./container-runtime";
export { startLocalStack, StartedUmsEdgeLocalStack, LOCALSTACK_IMAGE, LOCALSTACK_PORT, localStackImage } from "./localstack";
export type { LocalStackOptions } from "./localstack";
export { deployStackToS3, trustStoreObjects, logBucket, uploadLogTree, listKeys, resolveValue } from "./s3-deployment";
export type { S3Deployment, TrustStoreObjects, DeployStackToS3Options } from "./s3-deployment";
