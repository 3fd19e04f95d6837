//! The screens, one module each (egui's demo habit): the node editor, the Train view, the
//! Experiments view and the Learn view.
//! Each draws its panels and queues commands; the app applies them at the end of the frame.

pub mod design;
pub mod experiments;
pub mod learn;
pub mod train;
