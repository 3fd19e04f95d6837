//! The two screens, one file each (egui's demo habit): the node editor and the Train view.
//! Each draws its panels and queues commands; the app applies them at the end of the frame.

pub mod design;
pub mod train;
