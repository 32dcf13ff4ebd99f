/* Open MPI through dlopen. Open MPI's handles are the addresses of its predefined objects
 * (MPI_COMM_WORLD is &ompi_mpi_comm_world, MPI_FLOAT &ompi_mpi_float, MPI_SUM &ompi_mpi_op_sum)
 * and MPI_IN_PLACE is (void *)1, so dlsym gives every handle without mpi.h. */
#include "mpi_bridge.h"

#include <dlfcn.h>
#include <stdio.h>

typedef void *handle;
static int (*mpi_init_thread)(int *, char ***, int, int *);
static int (*mpi_initialized)(int *);
static int (*mpi_comm_rank)(handle, int *);
static int (*mpi_comm_size)(handle, int *);
static int (*mpi_allreduce)(const void *, void *, int, handle, handle, handle);
static int (*mpi_abort)(handle, int);
static int (*mpi_finalize)(void);
static handle world, float_type, double_type, sum, max, min;
static int ranks = 1; /* the world's size once started */

#define MPI_IN_PLACE ((void *)1)

int rc_mpi_start(int *rank, int *size, char *message, size_t message_size)
{
    /* RTLD_GLOBAL: Open MPI's components, loaded later, resolve their symbols against libmpi. */
    void *library = dlopen("libmpi.so.40", RTLD_NOW | RTLD_GLOBAL);
    if (!library) {
        snprintf(message, message_size, "cannot load Open MPI's libmpi.so.40 (%s); install openmpi-bin", dlerror());
        return -1;
    }
    struct { void **slot; const char *name; } symbols[] = {
        {(void **)&mpi_init_thread, "MPI_Init_thread"}, {(void **)&mpi_initialized, "MPI_Initialized"}, {(void **)&mpi_comm_rank, "MPI_Comm_rank"},
        {(void **)&mpi_comm_size, "MPI_Comm_size"}, {(void **)&mpi_allreduce, "MPI_Allreduce"}, {(void **)&mpi_abort, "MPI_Abort"},
        {(void **)&mpi_finalize, "MPI_Finalize"}, {&world, "ompi_mpi_comm_world"}, {&float_type, "ompi_mpi_float"},
        {&double_type, "ompi_mpi_double"}, {&sum, "ompi_mpi_op_sum"}, {&max, "ompi_mpi_op_max"}, {&min, "ompi_mpi_op_min"},
    };
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        *symbols[i].slot = dlsym(library, symbols[i].name);
        if (!*symbols[i].slot) {
            snprintf(message, message_size, "libmpi.so.40 has no %s: it is not Open MPI", symbols[i].name);
            return -1;
        }
    }
    /* The training step's hooks call MPI from whichever thread runs them, one at a time. */
    const int serialized = 2; /* MPI_THREAD_SERIALIZED in Open MPI */
    int started = 0, provided = 0;
    if (mpi_initialized(&started) == 0 && !started && mpi_init_thread(NULL, NULL, serialized, &provided) != 0) {
        snprintf(message, message_size, "MPI_Init_thread failed");
        return -1;
    }
    if (!started && provided < serialized) {
        snprintf(message, message_size, "this Open MPI gives thread level %d; resnetc needs MPI_THREAD_SERIALIZED", provided);
        return -1;
    }
    if (mpi_comm_rank(world, rank) != 0 || mpi_comm_size(world, size) != 0) {
        snprintf(message, message_size, "MPI_Comm_rank or MPI_Comm_size failed");
        return -1;
    }
    ranks = *size;
    return 0;
}

int rc_mpi_sum_floats(float *values, int count) { return mpi_allreduce(MPI_IN_PLACE, values, count, float_type, sum, world); }
int rc_mpi_sum_doubles(double *values, int count) { return mpi_allreduce(MPI_IN_PLACE, values, count, double_type, sum, world); }
int rc_mpi_max_doubles(double *values, int count) { return mpi_allreduce(MPI_IN_PLACE, values, count, double_type, max, world); }
int rc_mpi_min_doubles(double *values, int count) { return mpi_allreduce(MPI_IN_PLACE, values, count, double_type, min, world); }

void rc_mpi_average_doubles(void *context, double *values, int count)
{
    (void)context;
    if (rc_mpi_sum_doubles(values, count) != 0) rc_mpi_abort(3);
    for (int i = 0; i < count; i++) values[i] /= ranks;
}

void rc_mpi_abort(int code)
{
    if (mpi_abort) mpi_abort(world, code);
}

void rc_mpi_finish(void)
{
    if (mpi_finalize) mpi_finalize();
}
