// The library's own namespaces that most of its files read: the event log and history store, the models, the layers,
// the state format, the tensors and the training loop. A file that also imports System.Numerics.Tensors keeps its
// own `using Tensor = LifelongPrefs.Tensors.Tensor;` (that namespace has a Tensor class of its own).
global using LifelongPrefs.Data;
global using LifelongPrefs.Models;
global using LifelongPrefs.Nn;
global using LifelongPrefs.Persistence;
global using LifelongPrefs.Tensors;
global using LifelongPrefs.Training;
