/* c2d_linux._native: the trivial compiled payload that makes the wheel platform-specific. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *
answer(PyObject *self, PyObject *unused)
{
    return PyLong_FromLong(42);
}

static PyMethodDef methods[] = {
    {"answer", answer, METH_NOARGS, "answer() -> 42"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "c2d_linux._native", NULL, -1, methods,
};

PyMODINIT_FUNC
PyInit__native(void)
{
    return PyModule_Create(&module);
}
