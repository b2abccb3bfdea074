//! The example capabilities shipped with the app (`assets/examples/`), compiled in so a new
//! library is never empty. `seed` is false for the design's deliberately broken example.

pub struct Example {
    pub file: &'static str,
    pub text: &'static str,
    /// Seeded into a new library (false for examples that exist to show an error).
    pub seed: bool,
}

pub const EXAMPLES: &[Example] = &[
    Example {
        file: "weather-lookup.yaml",
        text: include_str!("../../../assets/examples/weather-lookup.yaml"),
        seed: true,
    },
    Example {
        file: "currency-converter.yaml",
        text: include_str!("../../../assets/examples/currency-converter.yaml"),
        seed: true,
    },
    Example {
        file: "data-analyzer.js",
        text: include_str!("../../../assets/examples/data-analyzer.js"),
        seed: true,
    },
    Example {
        file: "custom-db-query.js",
        text: include_str!("../../../assets/examples/custom-db-query.js"),
        seed: false,
    },
    Example {
        file: "slack-integration.json",
        text: include_str!("../../../assets/examples/slack-integration.json"),
        seed: true,
    },
    Example {
        file: "invoice-processor.yaml",
        text: include_str!("../../../assets/examples/invoice-processor.yaml"),
        seed: true,
    },
    Example {
        file: "github-issues.yaml",
        text: include_str!("../../../assets/examples/github-issues.yaml"),
        seed: true,
    },
    Example {
        file: "text-toolkit.yaml",
        text: include_str!("../../../assets/examples/text-toolkit.yaml"),
        seed: true,
    },
    Example {
        file: "public-holidays.json",
        text: include_str!("../../../assets/examples/public-holidays.json"),
        seed: true,
    },
    Example {
        file: "customer-lookup.flow.yaml",
        text: include_str!("../../../assets/examples/customer-lookup.flow.yaml"),
        seed: true,
    },
];
