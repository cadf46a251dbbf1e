import { Testing } from "cdktf";

// cdktf's matchers: toHaveResourceWithProperties, toHaveDataSourceWithProperties, toBeValidTerraform...
Testing.setupJest();
