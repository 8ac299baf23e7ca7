using Portcullis.Client.Connect;

namespace Portcullis.Client.Tests.Connect;

public sealed class ServiceResultTests
{
    [Theory]
    [InlineData("exit-code")]
    [InlineData("signal")]
    [InlineData("core-dump")]
    [InlineData("watchdog")]
    [InlineData("timeout")]
    [InlineData("start-limit-hit")]
    public void IsFailure_AFailedMainProcess_True(string value) => Assert.True(ServiceResult.IsFailure(value));

    [Theory]
    [InlineData("success")]
    [InlineData("")]
    [InlineData(null)]
    public void IsFailure_AnExplicitStopOrNoSystemd_False(string? value) => Assert.False(ServiceResult.IsFailure(value));
}
