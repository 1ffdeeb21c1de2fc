/* c2d_cext: a minimal C extension, so installing the sdist needs a compiler. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *
c2d_cext_add(PyObject *self, PyObject *args)
{
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b)) {
        return NULL;
    }
    return PyLong_FromLong(a + b);
}

static PyMethodDef c2d_cext_methods[] = {
    {"add", c2d_cext_add, METH_VARARGS, "add(a, b) -> a + b"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef c2d_cext_module = {
    PyModuleDef_HEAD_INIT, "c2d_cext", "conda2docker test C extension", -1, c2d_cext_methods,
};

PyMODINIT_FUNC
PyInit_c2d_cext(void)
{
    return PyModule_Create(&c2d_cext_module);
}
