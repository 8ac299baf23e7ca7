using System.Runtime.ExceptionServices;

namespace Portcullis.Linux.Tests.Support;

/// <summary>Runs a call that is expected to block on its own thread, so a test can watch it block and end.</summary>
internal sealed class BlockingCall<T>
{
    private readonly Thread _thread;
    private T _result = default!;
    private ExceptionDispatchInfo? _failure;

    public BlockingCall(Func<T> call)
    {
        _thread = new Thread(() =>
        {
            try
            {
                _result = call();
            }
            catch (Exception e)
            {
                _failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        { IsBackground = true };
        _thread.Start();
    }

    /// <summary>True once the call has returned (or thrown) within <paramref name="timeout"/>.</summary>
    public bool Finished(TimeSpan timeout) => _thread.Join(timeout);

    public T Result
    {
        get
        {
            if (!_thread.Join(TimeSpan.FromSeconds(10)))
                throw new TimeoutException("the call is still blocked");
            _failure?.Throw();
            return _result;
        }
    }
}
