using LifelongPrefs.Lifelong;
using Microsoft.Extensions.Options;

namespace LifelongPrefs.Extensions.DependencyInjection;

/// <summary>
/// Validates <see cref="TrackerOptions"/> for the options system with the tracker's own checks
/// (<see cref="TrackerOptions.Validate"/>), so that a host fails at start with the same message the tracker would throw.
/// </summary>
internal sealed class TrackerOptionsValidator : IValidateOptions<TrackerOptions>
{
    public ValidateOptionsResult Validate(string? name, TrackerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException ex)
        {
            // The message names the option by its path and value, e.g. "TrackerOptions.MicroBatchSize is 0; ...".
            return ValidateOptionsResult.Fail(ex.Message);
        }
    }
}
