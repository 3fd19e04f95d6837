//! The example designs in examples/, compiled into the binary so that the app always has its
//! default design and the templates, whatever the working directory.

/// `(file name, JSON text)` of every bundled example.
pub const EXAMPLES: &[(&str, &str)] = &[
    ("lenet5.json", include_str!("../examples/lenet5.json")),
    (
        "two_layer_mlp.json",
        include_str!("../examples/two_layer_mlp.json"),
    ),
    ("vgg_small.json", include_str!("../examples/vgg_small.json")),
    (
        "resnet_mini.json",
        include_str!("../examples/resnet_mini.json"),
    ),
];

/// The design the app opens with: LeNet-5, the classic first CNN.
pub const DEFAULT_DESIGN: (&str, &str) = EXAMPLES[0];
